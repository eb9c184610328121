/** What a person reads: quoted values stay text, settings are named, the thread count fits the machine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeError, plainText } from '../../src/common/errors';
import { checkModelsFolder, listModelFolders } from '../../src/node/catalog';
import { inferenceThreads } from '../../src/common/threads';

/** VS Code's own link syntax for notifications (vs/base/common/linkedText.ts, VS Code 1.100). */
const VSCODE_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;

test('plainText: a quoted setting, path or server answer never becomes a notification link', () => {
  for (const value of [
    '[Retry](command:workbench.action.toggleSidebarVisibility)',
    '[a](https://example.com) and [b](file:///etc/passwd "title")',
    '[[nested]](command:x)',
    '[x]((command:y)',
  ]) {
    const shown = plainText(`"${value}" is not a hub id`);
    assert.equal(shown.match(VSCODE_LINK), null, `no link in ${JSON.stringify(shown)}`);
    assert.equal(shown.replace(/\u2060/g, ''), `"${value}" is not a hub id`, 'the same characters, as text');
  }
  assert.equal(plainText('Plain (text) [with] brackets'), 'Plain (text) [with] brackets', 'other text unchanged');
});

test('localModelsFolder set to a file: the message names the setting, not ENOTDIR', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-msg-'));
  try {
    const file = path.join(dir, 'models.txt');
    writeFileSync(file, 'not a folder');
    const problem = checkModelsFolder(file)!;
    assert.match(problem, /attentionLens\.localModelsFolder is .*models\.txt, which is a file, not a folder/);
    assert.equal(checkModelsFolder(dir), undefined);
    assert.equal(checkModelsFolder(path.join(dir, 'absent')), undefined, 'absent: nothing listed, no error here');
    assert.throws(
      () => listModelFolders(file),
      (e: Error) => {
        const message = describeError(e);
        assert.match(message, /attentionLens\.localModelsFolder/);
        assert.doesNotMatch(message, /ENOTDIR|could not be run/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('threads: 0 picks min(4, cores); more than the cores is clamped, with a notice', () => {
  assert.deepEqual(inferenceThreads(0, 2), { threads: 2 });
  assert.deepEqual(inferenceThreads(0, 16), { threads: 4 });
  assert.deepEqual(inferenceThreads(2, 2), { threads: 2 });
  const many = inferenceThreads(64, 2);
  assert.equal(many.threads, 2);
  assert.match(many.notice!, /attentionLens\.threads is 64, but this machine has 2 cores; using 2/);
});
