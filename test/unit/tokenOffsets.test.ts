import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/worker/explainer';
import { runtime, spec } from '../support/models';

const TEXTS = [
  'Once upon a time, there was a little girl.',
  'First line\r\nsecond line\r\n\r\nthird',
  'Family: 👨‍👩‍👧 and a wave 👋🏽!',
  'Café naïve résumé',
  'tabs\tand   spaces',
];

/** Characters a token may legitimately cover: its slice of the text, seen the way the tokenizer sees it. */
const folded = (s: string, lower: boolean) =>
  lower
    ? s
        .toLowerCase()
        .normalize('NFD')
        .replace(/\p{Mn}/gu, '')
    : s;

for (const name of ['bert-mini-shakespeare', 'gpt2-mini-shakespeare', 'stories260K']) {
  describe(`token offsets: ${name}`, () => {
    let m: LoadedModel;
    before(async () => {
      m = await LoadedModel.load(spec(name, 'q8'), runtime);
    });
    after(() => m?.dispose());
    for (const text of TEXTS) {
      test(JSON.stringify(text), async () => {
        const r = await m.explain(text, 512);
        let lastStart = 0;
        const covered = new Array(text.length).fill(false);
        for (const t of r.tokens) {
          assert.ok(t.start <= t.end && t.end <= text.length, 'span inside the text');
          assert.ok(t.start >= lastStart, 'spans move forward');
          lastStart = t.start;
          if (t.special || t.label.trim() === '') {
            // Special tokens and word-boundary markers the tokenizer added cover no characters.
            if (t.special) assert.equal(t.start, t.end, `special token ${t.label} covers no characters`);
            continue;
          }
          assert.ok(t.end > t.start, `token ${JSON.stringify(t.label)} covers some characters`);
          const slice = folded(text.slice(t.start, t.end), name === 'bert-mini-shakespeare');
          const label = t.label.replace(/^##/, '').trim();
          if (!/^<[0-9A-F ]+>$/.test(label) && label !== '[UNK]') {
            assert.ok(slice.includes(label), `${JSON.stringify(label)} read from ${JSON.stringify(slice)}`);
          }
          for (let i = t.start; i < t.end; i++) covered[i] = true;
        }
        for (let i = 0; i < text.length; i++) {
          if (!/\s/.test(text[i]))
            assert.ok(covered[i], `character ${i} (${JSON.stringify(text[i])}) is covered by a token`);
        }
      });
    }
  });
}
