/** The manifest promises what the code does: commands, menus, settings, workspace trust, VS Code version. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/models';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

test('commands have a category and are reachable from the palette, the context menu and a key', () => {
  const ids = pkg.contributes.commands.map(
    (c: { command: string; category: string }) => (assert.equal(c.category, 'Attention Lens'), c.command),
  );
  assert.deepEqual(ids.sort(), [
    'attentionLens.chooseModel',
    'attentionLens.compareWith',
    'attentionLens.continueSelection',
    'attentionLens.explainSelection',
    'attentionLens.inductionProbe',
    'attentionLens.selectForCompare',
    'attentionLens.showPanel',
    'attentionLens.tryExample',
  ]);
  assert.deepEqual(
    pkg.contributes.menus['editor/context'].map((m: { command: string; when: string }) => [m.command, m.when]),
    [
      ['attentionLens.explainSelection', 'editorHasSelection'],
      ['attentionLens.continueSelection', 'editorHasSelection'],
      ['attentionLens.selectForCompare', 'editorHasSelection'],
      ['attentionLens.compareWith', 'editorHasSelection'],
    ],
  );
  assert.equal(pkg.contributes.keybindings[0].command, 'attentionLens.explainSelection');
});

test('engines.vscode admits VS Code 1.100', () => assert.match(pkg.engines.vscode, /^\^1\.(100|[0-9]{1,2})\.0$/));

test('workspace trust: model paths and the hub URL are never taken from an untrusted workspace', () => {
  const trust = pkg.capabilities.untrustedWorkspaces;
  assert.equal(trust.supported, 'limited');
  for (const key of ['attentionLens.model', 'attentionLens.localModelsFolder', 'attentionLens.hubUrl']) {
    assert.ok(trust.restrictedConfigurations.includes(key), key);
    assert.ok(pkg.contributes.configuration.properties[key], `${key} is a setting`);
  }
  assert.equal(pkg.capabilities.virtualWorkspaces.supported, true, 'reads documents through the VS Code API only');
});

test('the .vsix carries only the bundles, media and docs', () => {
  const ignore = readFileSync(path.join(repoRoot, '.vscodeignore'), 'utf8').split('\n');
  assert.equal(ignore[0], '**', 'everything is excluded unless listed');
  assert.ok(ignore.includes('!dist/ort/**') && ignore.includes('!dist/worker.js'));
});

test('npm: no warning on every command, and no dependency install script (onnxruntime-node downloads CUDA)', () => {
  const r = spawnSync('npm', ['config', 'get', 'ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'true', '.npmrc keeps npm ci from running install scripts');
  assert.doesNotMatch(r.stderr, /Unknown (project|user) config/, r.stderr);
});
