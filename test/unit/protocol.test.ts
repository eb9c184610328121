/**
 * Messages from the webview are untrusted: only well-formed ones get through. Their types and the
 * validator come from one definition (src/common/protocol.ts), so every kind here must round-trip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEAN_OF_HEADS, parseWebviewMessage, WebviewToHost } from '../../src/common/protocol';
import { MAX_EXPORT_CHARS, MAX_INDEX } from '../../src/common/limits';

/** Each kind of message: its type, or request:<method> for requests. */
type KindOf<M> = M extends { type: 'request'; method: infer K extends string }
  ? `request:${K}`
  : M extends { type: infer T extends string }
    ? T
    : never;
type Kind = KindOf<WebviewToHost>;
type Of<K extends Kind> = Extract<
  WebviewToHost,
  K extends `request:${infer M}` ? { type: 'request'; method: M } : { type: K }
>;

/**
 * At least one valid message of every kind the type allows. The mapped type makes this fail to
 * compile when a kind is added to the definition without an example here, and each example must
 * have the type the definition derives: a message cannot drift from its type unnoticed.
 */
const PNG = 'data:image/png;base64,iVBO';
const SVG = '<svg xmlns="x"></svg>';
const EXAMPLES: { [K in Kind]: Of<K>[] } = {
  ready: [{ type: 'ready' }],
  selection: [
    { type: 'selection', selection: { layer: 1, head: 0, token: 2 } },
    { type: 'selection', selection: { layer: 0, head: MEAN_OF_HEADS, token: 0 } },
  ],
  revealToken: [{ type: 'revealToken', token: 3 }],
  inductionProbe: [{ type: 'inductionProbe', seed: 7, length: 30 }],
  'request:scratch': [{ type: 'request', id: 1, method: 'scratch', params: { runId: 4, layer: 1 } }],
  'request:valueNorms': [{ type: 'request', id: 7, method: 'valueNorms', params: { runId: 4, layer: 0 } }],
  'request:logitLens': [{ type: 'request', id: 8, method: 'logitLens', params: { runId: 4, layer: 2 } }],
  'request:mask': [{ type: 'request', id: 9, method: 'mask', params: { runId: 4, token: 3 } }],
  'request:positions': [{ type: 'request', id: 10, method: 'positions', params: { runId: 4, layer: 1 } }],
  'request:flow': [
    { type: 'request', id: 11, method: 'flow', params: { runId: 4, layer: 1, token: 3, weighting: 'value-norms' } },
  ],
  'request:promoted': [
    { type: 'request', id: 12, method: 'promoted', params: { runId: 4, layer: 0, head: 1, token: 2 } },
  ],
  'request:walk': [{ type: 'request', id: 2, method: 'walk', params: { runId: 4, layer: 1, head: 2, token: 3 } }],
  'request:export': [
    { type: 'request', id: 3, method: 'export', params: { format: 'png', view: 'attention', data: PNG } },
    { type: 'request', id: 4, method: 'export', params: { format: 'svg', view: 'heads', data: SVG } },
    { type: 'request', id: 5, method: 'export', params: { format: 'json', view: 'tensors' } },
    { type: 'request', id: 6, method: 'export', params: { format: 'csv', view: 'tensors' } },
  ],
};
const all = Object.values(EXAMPLES).flat() as WebviewToHost[];

test('every kind of message round-trips through the validator derived from its definition', () => {
  for (const m of all) assert.deepEqual(parseWebviewMessage(structuredClone(m)), m, JSON.stringify(m));
});

test('the mean of heads chosen in the panel reaches the host as the mean', () => {
  const sent = { type: 'selection', selection: { layer: 2, head: MEAN_OF_HEADS, token: 5 } };
  assert.deepEqual(parseWebviewMessage(JSON.parse(JSON.stringify(sent))), sent);
  // The old wire value of the mean, and any other negative head, is not a head.
  assert.equal(parseWebviewMessage({ type: 'selection', selection: { layer: 2, head: -1, token: 5 } }), undefined);
  const average = { type: 'selection', selection: { layer: 2, head: 'average', token: 5 } };
  assert.equal(parseWebviewMessage(average), undefined);
});

/** Every field path of a message, with its value. */
function leaves(v: unknown, path: string[] = []): [string[], unknown][] {
  if (typeof v !== 'object' || v === null) return [[path, v]];
  return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
}
function withField(m: unknown, path: string[], value: unknown, remove = false): unknown {
  const copy = structuredClone(m) as Record<string, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
  if (remove) delete at[path.at(-1)!];
  else at[path.at(-1)!] = value;
  return copy;
}

test('hostile: every field of every kind missing, of the wrong type, or out of range is refused', () => {
  for (const m of all) {
    for (const [path, value] of leaves(m)) {
      const where = `${JSON.stringify(m)} at ${path.join('.')}`;
      assert.equal(parseWebviewMessage(withField(m, path, undefined, true)), undefined, `missing: ${where}`);
      for (const bad of [null, {}, [], Symbol.for('x')]) {
        assert.equal(parseWebviewMessage(withField(m, path, bad)), undefined, `${String(bad)}: ${where}`);
      }
      if (typeof value === 'number') {
        // Ids count up without a limit below 2^53; layers, heads and tokens stay below MAX_INDEX.
        const tooLarge = /^(id|runId)$/.test(path.at(-1)!) ? 2 ** 53 : MAX_INDEX + 1;
        for (const bad of [-2, 1.5, NaN, Infinity, tooLarge, String(value)]) {
          assert.equal(parseWebviewMessage(withField(m, path, bad)), undefined, `${String(bad)}: ${where}`);
        }
      }
      if (typeof value === 'string' && path.at(-1) !== 'view') {
        assert.equal(parseWebviewMessage(withField(m, path, 'javascript:alert(1)')), undefined, `other text: ${where}`);
      }
    }
  }
});

test('extra fields are dropped, on the message and inside it', () => {
  const quit = { type: 'revealToken', token: 1, command: 'workbench.action.quit', __proto__: { evil: 1 } };
  assert.deepEqual(parseWebviewMessage(quit), { type: 'revealToken', token: 1 });
  const scratch = { type: 'request', id: 7, method: 'scratch', params: { runId: 1, layer: 0, path: '/etc' } };
  assert.deepEqual(parseWebviewMessage(scratch), { ...scratch, params: { runId: 1, layer: 0 } });
  const json = { type: 'request', id: 8, method: 'export', params: { format: 'json', view: 'tensors', data: 'x' } };
  assert.deepEqual(parseWebviewMessage(json), { ...json, params: { format: 'json', view: 'tensors' } });
});

test('anything else is refused', () => {
  const png = (data: unknown, view: unknown = 'attention') => ({
    type: 'request',
    id: 1,
    method: 'export',
    params: { format: 'png', view, data },
  });
  const exportOf = (params: unknown) => ({ type: 'request', id: 1, method: 'export', params });
  for (const bad of [
    null,
    undefined,
    42,
    'ready',
    [],
    {},
    { type: 'unknown' },
    { type: 'toString' },
    { type: '__proto__' },
    { type: 'request', id: 1, method: 'constructor', params: {} },
    { type: 'request', id: 1, method: 'exec', params: {} },
    { type: 'reply', inReplyTo: 1, result: {} },
    { type: 'selection', selection: 'x' },
    { type: 'selection', selection: { layer: -1, head: 0, token: 0 } },
    // The walk is per head: the mean of heads is not a head to walk.
    { type: 'request', id: 1, method: 'walk', params: { runId: 1, layer: 0, head: MEAN_OF_HEADS, token: 0 } },
    // Each export format carries what it needs: an image for PNG and SVG, never a wrong one.
    png(undefined),
    png('<svg></svg>'),
    png('data:image/png;base64,'.padEnd(MAX_EXPORT_CHARS + 1, 'A')),
    png('data:image/png;base64,AA', '../../etc'),
    png('data:image/png;base64,AA', 'x'.repeat(41)),
    exportOf({ format: 'svg', view: 'heads', data: '<script>' }),
    exportOf({ format: 'svg', view: 'heads' }),
    exportOf({ format: 'pdf', view: 'heads', data: '<svg>' }),
  ]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad)?.slice(0, 120));
  }
});
