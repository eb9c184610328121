/**
 * npm run bench: measures, writes bench/results/<date>.json and regenerates docs/PERFORMANCE.md.
 * Not part of npm test: timings are figures to read, not assertions. BENCH_RUNS (default 5) runs
 * after a warm-up per figure.
 */
import { beyondSection } from './beyond';
import { cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { benchWebview } from './webview';
import { hostBusy, hostBusySection } from './hostBusy';
import { simdPeak } from './simdPeak';
import {
  boundSection,
  GemmProbe,
  GenerationLine,
  generationSection,
  inferenceSection,
  InferenceLine,
  loadSection,
  LoadLine,
  scratchSection,
  targetsSection,
} from './report';
import { webviewSection } from './panelReport';
import { SYNTHETIC_MODELS, SyntheticName, syntheticModel } from './syntheticModels';
import { ReleaseLine, releaseSection } from './releaseReport';
import { benchWait, waitSectionOf } from './wait';
import type { StageLine } from './stages';
import { stagesSection } from './stagesReport';
import { MODELS, modelsDir, PRECISIONS } from '../test/support/models';
import { TranslationLine, translationSection } from './translation';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const root = path.resolve(__dirname, '..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

function machine() {
  let flags: string[] = [];
  let mhz: number | undefined;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    flags = (/^flags\s*:\s*(.*)$/m.exec(info)?.[1].split(' ') ?? []).filter((x) =>
      /^(avx|avx2|avx512f|avx512bw|avx512vnni|fma|sse4_2)$/.test(x),
    );
    mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1]);
  } catch {
    /* not Linux */
  }
  const pkg = (name: string) =>
    JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    mhz,
    cores: cpus().length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    flags,
    node: process.version,
    onnxruntimeWeb: pkg('onnxruntime-web'),
    onnxruntimeNode: pkg('onnxruntime-node'),
    transformers: pkg('@huggingface/transformers'),
  };
}

const jsonLines = <T>(out: string): T[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
const child = (script: string, args: string[]) =>
  execFileSync(tsx, [path.join(root, 'bench', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });

/** Each configuration in its own process: WASM's thread count is fixed once per process. */
function benchInference(folders: string[], runs: number): { lines: InferenceLine[]; probes: GemmProbe[] } {
  const lines: InferenceLine[] = [];
  const probes: GemmProbe[] = [];
  for (const [runtime, threads, mode] of [
    ['wasm', 1, 'full'],
    ['wasm', 2, 'plain'],
    ['native', 1, 'full'],
    ['native', 2, 'plain'],
  ] as const) {
    const t0 = Date.now();
    for (const l of jsonLines<InferenceLine & { probe?: string }>(
      child('inference.ts', [runtime, String(threads), String(runs), mode, ...folders]),
    )) {
      if (l.probe) probes.push(l as unknown as GemmProbe);
      else lines.push(l);
    }
    console.log(`inference: ${runtime} × ${threads} thread(s) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  return { lines, probes };
}

/**
 * Load and memory: one fresh process per model and precision, as the worker would run it (2 threads); native too
 * for BERT-base int8.
 */
function benchLoad(folders: string[], runs: number): LoadLine[] {
  const lines: LoadLine[] = [];
  const t0 = Date.now();
  for (const folder of folders) {
    for (const precision of PRECISIONS) {
      for (const runtime of path.basename(folder) === 'bert-base-random' && precision === 'q8'
        ? ['wasm', 'native']
        : ['wasm']) {
        lines.push(...jsonLines<LoadLine>(child('load.ts', [folder, precision, '2', String(runs), runtime])));
      }
    }
  }
  console.log(`load and memory in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return lines;
}

/**
 * Memory as the extension host holds it, and giving it back (bench/release.ts): per model and precision, the
 * encoder–decoder marian-mini-dates included.
 */
function benchRelease(runs: number): ReleaseLine[] {
  const folders = [
    ...(['bert-base-random', 'gpt2-small-random'] as const).map((n) => syntheticModel(n)),
    ...['bert-mini-shakespeare', 'gpt2-mini-shakespeare', 'marian-mini-dates'].map((n) => path.join(modelsDir, n)),
  ];
  return folders.flatMap((folder) =>
    PRECISIONS.flatMap((p) => jsonLines<ReleaseLine>(child('release.ts', [folder, p, String(runs)]))),
  );
}

/** Sections of docs/PERFORMANCE.md measured by other runs (marked <!-- kept -->) survive a regeneration. */
function keptSections(): string {
  let old: string;
  try {
    old = readFileSync(path.join(root, 'docs/PERFORMANCE.md'), 'utf8');
  } catch {
    return '';
  }
  const kept = old.split(/^(?=## )/m).filter((s) => s.includes('<!-- kept -->'));
  return kept.length ? `\n${kept.join('').trimEnd()}\n` : '';
}

async function main() {
  const started = new Date();
  const m = machine();
  console.log(`machine: ${JSON.stringify(m)}`);
  const peak = await simdPeak(Math.min(2, m.cores), RUNS);
  console.log(`WASM SIMD bound: ${JSON.stringify(peak)}`);
  const synthetic = (Object.keys(SYNTHETIC_MODELS) as SyntheticName[]).map((n) => syntheticModel(n, console.log));
  const folders = [...MODELS.map((n) => path.join(modelsDir, n)), ...synthetic];
  const { lines: inference, probes } = benchInference(folders, RUNS);
  const load = benchLoad(folders, RUNS);
  const release = benchRelease(RUNS);
  const [stages] = jsonLines<StageLine>(child('stages.ts', [syntheticModel('bert-base-random'), String(RUNS)]));
  // The two test models, and GPT-2-small size (real size: what a step costs beyond the model weighs little there).
  const generationModels = [
    ...['gpt2-mini-shakespeare', 'stories260K'].map((n) => path.join(modelsDir, n)),
    syntheticModel('gpt2-small-random'),
  ];
  const generation = jsonLines<GenerationLine>(child('generation.ts', [String(RUNS), '32', ...generationModels]));
  for (const g of generation) console.log(JSON.stringify(g));
  const translation = jsonLines<TranslationLine>(
    child('translation.ts', [String(RUNS), path.join(modelsDir, 'marian-mini-dates')]),
  );
  for (const t of translation) console.log(JSON.stringify(t));
  const webview = await benchWebview(RUNS);
  for (const f of webview) console.log(JSON.stringify(f));
  const host = await hostBusy(syntheticModel('bert-base-random'), RUNS);
  console.log(JSON.stringify(host));
  // Last: it packages the extension (a production build into dist/).
  const wait = await benchWait(syntheticModel('bert-base-random'), RUNS);
  const seconds = (Date.now() - started.getTime()) / 1000;
  const results = {
    date: started.toISOString(),
    runs: RUNS,
    seconds,
    machine: m,
    simdPeak: peak,
    gemm: probes,
    inference,
    load,
    release,
    stages,
    wait,
    webview,
    host,
    generation,
    translation,
  };
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    path.join(root, 'bench/results', `${started.toISOString().slice(0, 10)}.json`),
    JSON.stringify(results, null, 2) + '\n',
  );
  const doc = [
    '# Performance',
    '',
    `Generated by \`npm run bench\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC in ` +
      `${(seconds / 60).toFixed(1)} minutes (${RUNS} runs after a warm-up per figure; median with min–max).`,
    '',
    `Machine: ${m.cpu}${m.mhz ? ` at ${m.mhz.toFixed(0)} MHz` : ''}, ${m.cores} cores, ${m.memoryGiB} GiB, CPU ` +
      `flags ${m.flags.join(' ')}; Node ${m.node}; onnxruntime-web ${m.onnxruntimeWeb}; onnxruntime-node ` +
      `${m.onnxruntimeNode}; transformers.js ${m.transformers}.`,
    '',
    targetsSection(inference, load, webview, peak),
    '',
    boundSection(m, peak, probes),
    '',
    inferenceSection(inference, peak),
    '',
    scratchSection(inference),
    '',
    beyondSection(inference),
    '',
    loadSection(load),
    '',
    releaseSection(release),
    '',
    stagesSection(stages),
    '',
    webviewSection(webview),
    '',
    hostBusySection(host),
    '',
    waitSectionOf(wait),
    '',
    generationSection(generation),
    '',
    translationSection(translation),
    '',
  ].join('\n');
  writeFileSync(path.join(root, 'docs/PERFORMANCE.md'), doc + keptSections());
  console.log(
    `wrote docs/PERFORMANCE.md and bench/results/${started.toISOString().slice(0, 10)}.json in ${seconds.toFixed(0)} s`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
