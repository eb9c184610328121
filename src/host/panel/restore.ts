/** What the webview saves for a window reload, checked before use (it comes back from the webview). */
import { MAX_SELECTION_CHARS } from '../../common/limits';

export interface SavedPanel {
  text: string;
  /** Where the text came from, so that tokens can still be shown in the editor. */
  source?: { uri: string; offset: number };
  /** The panel showed the induction probe: its seed and length (checked again by probeParams). */
  probe?: { seed: number; length: number };
}

export function restoredState(state: unknown): SavedPanel | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const s = state as Record<string, unknown>;
  if (typeof s.text !== 'string' || s.text.trim() === '' || s.text.length > MAX_SELECTION_CHARS) return undefined;
  const src = s.source as Record<string, unknown> | undefined;
  const source =
    src && typeof src.uri === 'string' && Number.isInteger(src.offset) && (src.offset as number) >= 0
      ? { uri: src.uri, offset: src.offset as number }
      : undefined;
  const p = s.probe as Record<string, unknown> | undefined;
  const probe =
    p && Number.isInteger(p.seed) && Number.isInteger(p.length)
      ? { seed: p.seed as number, length: p.length as number }
      : undefined;
  return { text: s.text, source, probe };
}
