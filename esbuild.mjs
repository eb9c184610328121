// Builds the extension host, the model worker and the webview as separate bundles, and copies the
// ONNX Runtime WebAssembly files next to them. `node esbuild.mjs --tests` also bundles the
// integration suite that runs inside VS Code; `--watch` rebuilds on every change (npm run watch).
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
const withTests = process.argv.includes('--tests');
const watch = process.argv.includes('--watch');

/** transformers.js' Node build loads the native onnxruntime-node at import; we run onnxruntime-web instead. */
const noNativeRuntime = {
  name: 'no-native-runtime',
  setup(build) {
    build.onLoad({ filter: /@huggingface[\\/]transformers[\\/]dist[\\/].*\.[cm]?js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(args.path, 'utf8');
      const patched = source.replace(/requireFromHere\("onnxruntime-node"\)/g, '{}');
      if (patched === source) throw new Error(`expected a requireFromHere("onnxruntime-node") call in ${args.path}`);
      return { contents: patched, loader: 'js' };
    });
    // sharp is for images only; it is never called on text.
    build.onResolve({ filter: /^sharp$/ }, () => ({ path: 'sharp', namespace: 'stub' }));
    build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  external: ['vscode'],
  logLevel: 'warning',
  define: { 'import.meta.url': 'import_meta_url' },
  banner: { js: 'const import_meta_url = require("url").pathToFileURL(__filename).href;' },
};

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/ort', { recursive: true });
for (const f of ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'])
  cpSync(`node_modules/onnxruntime-web/dist/${f}`, `dist/ort/${f}`);

const options = [
  { ...node, entryPoints: { extension: 'src/host/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { worker: 'src/worker/worker.ts' }, outdir: 'dist', plugins: [noNativeRuntime] },
  {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    logLevel: 'warning',
  },
];
if (withTests) {
  const suite = { 'suite/index': 'test/integration/index.ts' };
  options.push({ ...node, entryPoints: suite, outdir: 'out/test', external: ['vscode', 'mocha'] });
}
if (watch) {
  for (const o of options) await (await esbuild.context({ ...o, logLevel: 'info' })).watch();
} else {
  await Promise.all(options.map((o) => esbuild.build(o)));
}
