/** Messages from the webview are untrusted: only well-formed ones get through. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEAN_OF_HEADS, parseWebviewMessage } from '../../src/protocol';

test('well-formed messages pass unchanged', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'revealToken', token: 3 }), { type: 'revealToken', token: 3 });
  assert.deepEqual(parseWebviewMessage({ type: 'selection', selection: { layer: 1, head: 0, token: 2 } }), { type: 'selection', selection: { layer: 1, head: 0, token: 2 } });
  assert.deepEqual(parseWebviewMessage({ type: 'query', query: { type: 'walk', runId: 4, layer: 1, head: 2, token: 3 } }), { type: 'query', query: { type: 'walk', runId: 4, layer: 1, head: 2, token: 3 } });
});

test('the mean of heads, as the panel sends it, passes', () => {
  const mean = { type: 'selection', selection: { layer: 3, head: MEAN_OF_HEADS, token: 0 } };
  assert.deepEqual(parseWebviewMessage(structuredClone(mean)), mean);
});

test('extra fields are dropped', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'revealToken', token: 1, command: 'workbench.action.quit', __proto__: { evil: 1 } }), { type: 'revealToken', token: 1 });
});

test('anything else is refused', () => {
  for (const bad of [
    null, undefined, 42, 'ready', [], {}, { type: 'unknown' }, { type: 'revealToken' }, { type: 'revealToken', token: -1 },
    { type: 'revealToken', token: 1.5 }, { type: 'revealToken', token: '3' }, { type: 'revealToken', token: 1e9 },
    { type: 'selection', selection: { layer: 0, head: 0 } }, { type: 'selection', selection: 'x' },
    { type: 'selection', selection: { layer: 0, head: -2, token: 0 } },
    { type: 'selection', selection: { layer: -1, head: 0, token: 0 } },
    { type: 'query', query: { type: 'walk', runId: 1, layer: 0, head: MEAN_OF_HEADS, token: 0 } },
    { type: 'query', query: { type: 'walk', runId: 1, layer: 0, head: 0 } }, { type: 'query', query: { type: 'exec', runId: 1, layer: 0 } },
    { type: 'query', query: { type: 'scratch', runId: NaN, layer: 0 } },
  ]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  }
});
