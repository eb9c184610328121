/** The Get Started walkthrough: every step's button runs an example that exists, on a model and tab that exist. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { modelsDir, repoRoot } from '../support/models';
import { EXAMPLES } from '../../src/host/commands/exampleList';
import { TABS } from '../../webview/state';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const [walkthrough] = pkg.contributes.walkthroughs;
type Step = { id: string; description: string; media: { markdown: string }; completionEvents: string[] };
const steps: Step[] = walkthrough.steps;

/** The example ids a step's command links name. */
const examplesOf = (step: Step) =>
  [...step.description.matchAll(/\(command:attentionLens\.tryExample\?([^)]+)\)/g)].map(
    (m) => JSON.parse(decodeURIComponent(m[1]))[0] as string,
  );

test('each step but the first runs one example, named as the step, and is ticked when it ran', () => {
  const [setup, ...rest] = steps;
  assert.match(setup.description, /command:workbench\.action\.openSettings\?.*localModelsFolder/);
  assert.deepEqual(setup.completionEvents, ['onSettingChanged:attentionLens.localModelsFolder']);
  assert.deepEqual(
    rest.map((s) => examplesOf(s)),
    rest.map((s) => [s.id]),
  );
  for (const s of rest) assert.deepEqual(s.completionEvents, [`onContext:attentionLens.tried.${s.id}`]);
  assert.deepEqual(rest.map((s) => s.id).sort(), Object.keys(EXAMPLES).sort(), 'every example has its step');
});

test('every example runs a model that needs no download and opens a tab the panel has', () => {
  for (const [id, e] of Object.entries(EXAMPLES)) {
    assert.ok(existsSync(path.join(modelsDir, e.model, 'config.json')), `${id}: ${e.model} is a test model`);
    assert.ok((TABS as readonly string[]).includes(e.tab), `${id}: the panel has a ${e.tab} tab`);
    assert.ok(e.text.trim().length > 0);
  }
});

test("every step's page exists and the packaged extension carries it", () => {
  for (const s of steps) assert.ok(existsSync(path.join(repoRoot, s.media.markdown)), s.media.markdown);
  const ignore = readFileSync(path.join(repoRoot, '.vscodeignore'), 'utf8').split('\n');
  assert.ok(ignore.includes('!media/**'));
});

test('the example command is for the walkthrough only: hidden from the palette, where it would have no example', () => {
  assert.ok(pkg.contributes.commands.some((c: { command: string }) => c.command === 'attentionLens.tryExample'));
  assert.deepEqual(pkg.contributes.menus.commandPalette, [{ command: 'attentionLens.tryExample', when: 'false' }]);
});
