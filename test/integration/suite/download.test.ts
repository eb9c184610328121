/** A hub model through the extension: downloaded with progress into global storage, then used offline. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, editorWith, useModel } from './helpers';

describe('Hub models', function () {
  this.timeout(120_000);
  const config = () => vscode.workspace.getConfiguration('attentionLens');

  it('downloads a hub id from the configured hub, then explains with it', async function () {
    const hub = process.env.ATTENTION_LENS_TEST_HUB;
    assert.ok(hub, 'the harness serves a local hub mirror');
    const lens = await api();
    await config().update('hubUrl', hub, vscode.ConfigurationTarget.Global);
    await useModel('test-mirror/gpt-nano-sort');
    try {
      const editor = await editorWith('201102');
      editor.selection = new vscode.Selection(0, 0, 0, 6);
      const entry = await lens.explainSelection();
      assert.ok(entry, 'explained with the downloaded model');
      assert.equal(entry.result.model.id, 'test-mirror/gpt-nano-sort');
      assert.equal(entry.result.model.layers, 3);
      assert.equal(entry.result.tokens.length, 6);
      // Offline now: with the hub unreachable, the cached copy still works.
      await config().update('hubUrl', 'http://127.0.0.1:9', vscode.ConfigurationTarget.Global);
      const again = await lens.explainSelection();
      assert.equal(again?.result.model.id, 'test-mirror/gpt-nano-sort', 'the cached model works without the hub');
    } finally {
      await config().update('hubUrl', undefined, vscode.ConfigurationTarget.Global);
      await config().update('model', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
