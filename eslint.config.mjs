// typescript-eslint's recommended rules, plus the walls between threads: which code may import
// `vscode`, Node or another thread's files (the tsconfigs in src/*/ and webview/ keep the DOM and
// Node's typings where they belong).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'url', 'stream'];
const banned = (...groups) => ({
  'no-restricted-imports': [
    'error',
    { patterns: groups.map((g) => ({ ...g, allowTypeImports: g.allowTypeImports ?? false })) },
  ],
});
const vscodeOnlyInHost = { group: ['vscode'], message: 'only src/host may import vscode' };
const noNode = { group: NODE_BUILTINS, message: 'runs in the browser as well: no Node modules' };
const thread = (name) => ({
  group: [`**/src/${name}/*`, `../${name}/*`, `../../${name}/*`, `../../../${name}/*`],
  message: `src/${name} runs on another thread`,
});

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'bench/models/**', '.vscode-test/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-undef': 'off', // TypeScript checks names
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Prettier wraps code at 120 columns but not strings or comments: split those by hand.
      'max-len': ['error', { code: 120, ignoreRegExpLiterals: true, ignoreUrls: true }],
    },
  },
  {
    files: ['src/common/**'],
    rules: banned(vscodeOnlyInHost, noNode, thread('host'), thread('worker'), thread('node')),
  },
  { files: ['src/node/**'], rules: banned(vscodeOnlyInHost, thread('host'), thread('worker')) },
  { files: ['src/worker/**'], rules: banned(vscodeOnlyInHost, thread('host')) },
  { files: ['src/host/**'], rules: banned({ ...thread('worker'), allowTypeImports: true }) },
  { files: ['webview/**'], rules: banned(vscodeOnlyInHost, noNode, thread('host'), thread('worker'), thread('node')) },
  { files: ['test/integration/index.ts'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
