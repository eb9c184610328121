/** One section of docs/PERFORMANCE.md rewritten by a bench that measures only that section's figures. */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const DOC = path.resolve(__dirname, '../docs/PERFORMANCE.md');

/** `doc` with its section under `heading` (up to the next `## `) replaced by `section`, appended when missing. */
export function withSection(doc: string, heading: string, section: string): string {
  const parts = doc.split(/^(?=## )/m);
  const at = parts.findIndex((p) => p.startsWith(heading));
  if (at < 0) return `${doc.trimEnd()}\n\n${section}\n`;
  parts[at] = `${section}\n\n`;
  return parts.join('').trimEnd() + '\n';
}

export function writeSection(heading: string, section: string): void {
  writeFileSync(DOC, withSection(readFileSync(DOC, 'utf8'), heading, section));
}
