/** The same mocha suite in a downloaded VS Code (needs internet; code-server is used where there is none). */
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { modelsDir } from '../support/models';
import { SAMPLE_TEXT } from '../support/codeServer';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../..');
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-electron-'));
  writeFileSync(path.join(workspace, 'sample.txt'), SAMPLE_TEXT);
  const userData = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-electron-user-'));
  mkdirSync(path.join(userData, 'User'));
  writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({ 'attentionLens.localModelsFolder': modelsDir }),
  );
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out/test/suite/index.js'),
    launchArgs: [workspace, '--disable-extensions', `--user-data-dir=${userData}`],
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
