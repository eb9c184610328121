/**
 * Translation latency of an encoder–decoder model (issue 13): Explain Selection's path (worker/seq2seq.ts: the
 * encoder through the patched graph, greedy decoding, then every attention family read) against transformers.js'
 * own greedy `generate` on the same model and the same texts, on onnxruntime-web with one thread, in this process.
 * Usage: tsx bench/translation.ts <runs> <model folder>; one JSON line per dtype.
 */
import * as path from 'node:path';
import { LoadedSeq2Seq } from '../src/worker/seq2seq';
import { startRuntime } from '../src/worker/runtime';
import { fmtMs, Stat, stat } from './stats';

/** Written dates of every form the model knows, the README's first; none is a held-out test date. */
const DATES = ['Tuesday, December 1, 2026', '3 March 1999', 'Fri, 14 Feb 2031', '07/04/1976', 'May 5th, 2000'];
const runtime = { wasmDir: path.resolve(__dirname, '../node_modules/onnxruntime-web/dist'), threads: 1 };

export interface TranslationLine {
  model: string;
  dtype: 'fp32' | 'q8';
  texts: number;
  /** Output tokens written over the texts (with the end token). */
  outputTokens: number;
  /** One text, Explain Selection's path: translation and all three attention families. */
  oursMs: Stat;
  /** One text, transformers.js generate (greedy, the plain graphs, no attention). */
  theirsMs: Stat;
  runs: number;
}

/** The section of docs/PERFORMANCE.md. */
export function translationSection(lines: TranslationLine[]): string {
  const rows = lines.map(
    (l) =>
      `| ${l.model} | ${l.dtype} | ${l.texts} texts, ${l.outputTokens} output tokens | ${fmtMs(l.oursMs)} | ` +
      `${fmtMs(l.theirsMs)} | ${(l.theirsMs.median / l.oursMs.median).toFixed(2)} |`,
  );
  return [
    '## Translation latency: marian-mini-dates (issue 13)',
    '',
    'One written date to its ISO date, greedy, onnxruntime-web with one thread; median (min–max) per text over ' +
      'the runs. Ours is Explain Selection’s path: the encoder through the patched graph, the greedy steps, and ' +
      'the encoder, decoder and cross-attention read from the model’s own graphs; transformers.js generate runs ' +
      'the plain graphs and reads no attention. Ratio: transformers.js time / ours (1 = as fast).',
    '',
    '| model | dtype | texts | ours, per text | transformers.js generate | ratio |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main() {
  const [runs, folder] = process.argv.slice(2);
  const RUNS = Number(runs);
  const { tf } = await startRuntime(runtime);
  for (const dtype of ['fp32', 'q8'] as const) {
    const model = await LoadedSeq2Seq.load({ id: path.basename(folder), folder, dtype }, runtime);
    const options = { dtype, device: 'auto', session_options: { executionProviders: ['wasm'] } } as const;
    const theirs = await tf.AutoModelForSeq2SeqLM.from_pretrained(folder, options);
    const tokenizer = await tf.AutoTokenizer.from_pretrained(folder);
    let outputTokens = 0;
    const ours = async (text: string) => {
      const r = await model.explain(text, 512, 1);
      outputTokens = r.seq2seq!.output.length;
    };
    const theirsRun = (text: string) => theirs.generate({ ...tokenizer(text), max_new_tokens: 32, do_sample: false });
    for (const text of DATES) {
      await ours(text); // warm-up
      await theirsRun(text);
    }
    const oursMs: number[] = [];
    const theirsMs: number[] = [];
    let written = 0;
    for (let i = 0; i < RUNS; i++) {
      for (const text of DATES) {
        let t0 = performance.now();
        await ours(text);
        oursMs.push(performance.now() - t0);
        if (i === 0) written += outputTokens;
        t0 = performance.now();
        await theirsRun(text);
        theirsMs.push(performance.now() - t0);
      }
    }
    const line: TranslationLine = {
      model: path.basename(folder),
      dtype,
      texts: DATES.length,
      outputTokens: written,
      oursMs: stat(oursMs),
      theirsMs: stat(theirsMs),
      runs: RUNS,
    };
    console.log(JSON.stringify(line));
    await theirs.dispose();
    await model.dispose();
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
