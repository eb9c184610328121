/**
 * The hostile-input corpus through tokenization, extraction and the hover's markdown: every result
 * is well formed, offsets stay inside the text, and nothing in the text becomes markup or a link.
 * (The webview half runs in a real browser: test/e2e.)
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LoadedModel } from '../../src/worker/explainer';
import { escapeMarkdown, hoverMarkdown } from '../../src/host/editor/hoverText';
import { rowOf } from '../../src/common/attention/aggregate';
import { repoRoot, runtime, spec } from '../support/models';

const corpus = JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/hostile-inputs.json'), 'utf8')) as string[];
const huge = 'All the world’s a stage. '.repeat(4000); // 100 000 characters

for (const name of ['bert-mini-shakespeare', 'gpt2-mini-shakespeare', 'stories260K']) {
  describe(`hostile input: ${name}`, () => {
    let m: LoadedModel;
    before(async () => {
      m = await LoadedModel.load(spec(name, 'q8'), runtime);
    });
    after(() => m?.dispose());

    corpus.forEach((text, i) => {
      test(`#${i} ${JSON.stringify(text.slice(0, 40))}`, async () => {
        if (text.trim() === '' && name === 'gpt2-mini-shakespeare' && text === '') {
          // GPT-2 adds no special tokens: empty text has nothing to explain.
          await assert.rejects(m.explain(text, 128), /no tokens to explain: select some text/);
          return;
        }
        const r = await m.explain(text, 128);
        const T = r.tokens.length;
        assert.equal(r.attention.length, r.model.layers * r.model.heads * T * T);
        for (let row = 0; row < r.model.layers * r.model.heads * T; row++) {
          const s = r.attention.subarray(row * T, row * T + T).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(s - 1) < 1e-5, 'rows sum to 1');
        }
        for (const t of r.tokens)
          assert.ok(t.start >= 0 && t.start <= t.end && t.end <= text.length, 'offsets inside the text');
        if (r.truncated) assert.ok(r.truncated.keptTokens === T && r.truncated.totalTokens > T);
        if (text.startsWith('word word')) assert.ok(r.truncated, 'long input is cut, and says so');

        if (T === 0) return;
        const md = hoverMarkdown(r, r.model.layers - 1, 'mean', T - 1, rowOf(r, r.model.layers - 1, 'mean', T - 1));
        const withoutOurLink = md.replace(
          /\[Open in the Attention Lens panel\]\(command:attentionLens\.showPanel\?[^)\s]+\)$/,
          '',
        );
        assert.ok(!/(?<!\\)[<>]/.test(withoutOurLink), 'no raw angle brackets: no HTML');
        assert.ok(!/(?<!\\)\]\(/.test(withoutOurLink), 'no link or image syntax from the text');
        assert.ok(!/(?<!\\)`/.test(withoutOurLink), 'no code spans from the text');
        assert.equal((md.match(/command:/g) ?? []).length, 1, 'the only command link is ours');
      });
    });

    test('100 000 characters: cut to the token limit with a notice, offsets still exact', async () => {
      const r = await m.explain(huge, 512);
      assert.ok(r.truncated, 'says it was cut');
      assert.ok(r.tokens.length <= 512);
      const last = r.tokens.filter((t) => !t.special && !/^ ?<[0-9A-F ]+>$/.test(t.label)).at(-1)!;
      assert.ok(last.end < huge.length / 10, 'the explained tokens are the start of the text');
      assert.match(
        huge.slice(last.start, last.end).toLowerCase(),
        new RegExp(
          last.label
            .replace(/^##/, '')
            .trim()
            .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
            .toLowerCase(),
        ),
      );
    });
  });
}

test('escapeMarkdown leaves nothing active', () => {
  assert.equal(escapeMarkdown('[x](javascript:y)'), '\\[x\\]\\(javascript\\:y\\)');
  assert.equal(escapeMarkdown('<b>'), '\\<b\\>');
  assert.equal(escapeMarkdown('a\r\nb\tc\u0000'), 'a↵b⇥c�');
});
