// Packages the extension.
//   node scripts/package.mjs                      the universal .vsix: WebAssembly only, no native code
//   node scripts/package.mjs --target linux-x64   a platform .vsix that also carries onnxruntime-node's
//                                                 binary for that platform (runtime "native"/"auto")
// Any other arguments go to `vsce package` (e.g. --out).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const at = args.indexOf('--target');
const target = at >= 0 ? args[at + 1] : undefined;

/** vsce targets for which onnxruntime-node ships a binary, and where it keeps it. */
const NATIVE = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};

if (target && !NATIVE[target]) {
  console.error(
    `No native ONNX Runtime for target "${target}" (onnxruntime-node ships ${Object.keys(NATIVE).join(', ')}). ` +
      `Package without --target for the universal WebAssembly build.`,
  );
  process.exit(2);
}

const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: 'inherit' });
const nativeDir = path.join(root, 'dist', 'native');

run(process.execPath, ['esbuild.mjs', '--production']);
try {
  if (target) {
    // Only what loads at run time: the package's JS, its binary for this platform, and onnxruntime-common.
    const from = (pkg) => path.join(root, 'node_modules', pkg);
    const to = (pkg) => path.join(nativeDir, 'node_modules', pkg);
    const binary = path.join('bin', 'napi-v6', NATIVE[target]);
    if (!existsSync(path.join(from('onnxruntime-node'), binary)))
      throw new Error(`node_modules/onnxruntime-node/${binary} is missing: run npm ci`);
    mkdirSync(nativeDir, { recursive: true });
    for (const f of ['package.json', 'dist', binary])
      cpSync(path.join(from('onnxruntime-node'), f), path.join(to('onnxruntime-node'), f), {
        recursive: true,
        filter: (p) => !p.endsWith('.map') && !p.endsWith('.d.ts'),
      });
    for (const f of ['package.json', path.join('dist', 'cjs')])
      cpSync(path.join(from('onnxruntime-common'), f), path.join(to('onnxruntime-common'), f), {
        recursive: true,
        filter: (p) => !p.endsWith('.map') && !p.endsWith('.d.ts'),
      });
    const version = JSON.parse(readFileSync(path.join(from('onnxruntime-node'), 'package.json'), 'utf8')).version;
    console.log(`bundled onnxruntime-node ${version} for ${target}`);
  }
  run(path.join(root, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', ...args]);
} finally {
  // The folder must not stay: a later universal package or a development run would pick it up.
  rmSync(nativeDir, { recursive: true, force: true });
}
