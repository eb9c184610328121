/**
 * What a tab of the panel is: the data it draws from, how it draws, and how it follows smaller changes.
 * A new tab is one module (`TabModule`) added to the shell's MODULES and to TABS in state.ts:
 * - `needs`: the store keys whose change redraws it (`render` again);
 * - `data(view)`: the tensors `render` reads (e.g. one layer's attention); the shell shows "Loading…"
 *   until they have arrived, fetches them before the others for the tab on screen, and never lets a
 *   view read a piece that is not in (it would be zeros);
 * - `update(changed)` on the view it returned: follows the other keys in place (a token focus moves
 *   an outline; 'tensors' draws more of a view that paints as pieces arrive, like the grid).
 */
import type { HeadChoice } from '../../src/common/protocol';
import type { Palette } from '../colors';
import type { Host } from '../host';
import type { Key, PanelState } from '../store';
import type { Tab, ViewState } from '../state';
import type { DataNeed } from '../tensors';

export interface TabContext {
  state: PanelState;
  palette: Palette;
  width: number;
  host: Host;
  setView(patch: Partial<ViewState>): void;
  nextSeed(): void;
}

export interface TabView {
  element: HTMLElement;
  /** Follows a change of keys the tab does not redraw for (e.g. the focused token); optional. */
  update?(changed: ReadonlySet<Key>, ctx: TabContext): void;
}

export interface TabModule {
  id: Tab;
  title: string;
  /** What the tab draws from: a change to any of these redraws the tab; other changes go to `update`. */
  needs: readonly Key[];
  /** The tensors `render` reads for `view`; all of them when left out. */
  data?(view: ViewState): DataNeed;
  render(ctx: TabContext): TabView;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

export function section(title: string, help: string, body: HTMLElement): HTMLElement {
  return el('section', {}, el('h2', { textContent: title }), el('p', { className: 'help', textContent: help }), body);
}

/** "head 3" or "mean of 12 heads". */
export const headName = (head: HeadChoice, heads: number) =>
  head === 'mean' ? `mean of ${heads} heads` : `head ${head + 1}`;
