/** The one rule for how a token's text is shown, in every view of the panel. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { bytesLabel, displayLabel } from '../../src/common/tokenLabel';
import { repoRoot } from '../support/models';

test('whitespace shows its symbol; control and invisible-only tokens show their UTF-8 bytes', () => {
  const cases: [string, string][] = [
    [' the', '·the'],
    ['\n', '↵'],
    ['\r\n', '␍↵'],
    ['\t', '⇥'],
    ['a\u00A0b', 'a·b'],
    ['', '∅'],
    ['\u0000', '<00>'],
    ['a\u0001b', 'a<01>b'],
    ['\u000B\u000C', '<0B><0C>'],
    ['\u007F', '<7F>'],
    ['\u0085', '<C2 85>'],
    // A lone variation selector, a lone zero-width joiner, a lone combining mark: nothing to draw.
    ['\uFE0F', '<EF B8 8F>'],
    ['\u200D', '<E2 80 8D>'],
    ['\u0301', '<CC 81>'],
    ['\uFEFF', '<EF BB BF>'],
    // Bidirectional controls would reorder the chip's text.
    ['\u202Eabc', '<E2 80 AE>abc'],
    ['x\u2066y', 'x<E2 81 A6>y'],
    // Text that draws normally stays as it is, marks and selectors included.
    ['❤️', '❤️'],
    ['e\u0301', 'e\u0301'],
    ['👩‍💻', '👩‍💻'],
    ['שלום', 'שלום'],
    // The worker's label for part of a character's bytes keeps its form.
    ['<E2 80>', '<E2 80>'],
    [' <F0 9F>', '·<F0 9F>'],
  ];
  for (const [label, shown] of cases) assert.equal(displayLabel(label), shown, JSON.stringify(label));
  assert.equal(bytesLabel([0xe2, 0x80, 0x8d]), '<E2 80 8D>');
});

test('every view draws token text through displayLabel, none re-derives it', () => {
  const dir = path.join(repoRoot, 'webview', 'views');
  for (const file of readdirSync(dir)) {
    const source = readFileSync(path.join(dir, file), 'utf8');
    assert.doesNotMatch(source, /label\.replace\(/, `${file} builds its own token label`);
  }
});
