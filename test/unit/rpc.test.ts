/** The request/reply helper both channels use: replies and progress find their request by id. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorReply, Methods, replyOf, Request, Requester } from '../../src/common/rpc';

type Echo = { double: { params: number; result: number }; name: { params: { id: number }; result: string } } & Methods;

test('replies are matched by id, whatever order they arrive in', async () => {
  const sent: Request<Echo>[] = [];
  const r = new Requester<Echo>((m) => sent.push(m));
  const a = r.request('double', 2);
  const b = r.request('name', { id: 7 });
  assert.deepEqual(
    sent.map((m) => [m.type, m.id, m.method]),
    [
      ['request', a.id, 'double'],
      ['request', b.id, 'name'],
    ],
  );
  assert.notEqual(a.id, b.id);
  assert.equal(r.receive(replyOf<Echo>(b.id, 'seven')), true);
  assert.equal(r.receive(replyOf<Echo>(a.id, 4)), true);
  assert.equal(await a.result, 4);
  assert.equal(await b.result, 'seven');
  assert.deepEqual(r.waiting, []);
});

test('progress goes to its request and ends nothing; an error reply rejects with its message', async () => {
  const r = new Requester<Echo>(() => undefined);
  const said: string[] = [];
  const a = r.request('double', 1, (m) => said.push(m));
  r.receive({ type: 'progress', inReplyTo: a.id, message: 'loading' });
  assert.deepEqual(said, ['loading']);
  assert.deepEqual(r.waiting, [a.id]);
  r.receive(errorReply<Echo>(a.id, 'no model'));
  await assert.rejects(a.result, /no model/);
});

test('an abandoned request rejects once and its late reply is dropped; other messages are not replies', async () => {
  const r = new Requester<Echo>(() => undefined);
  const a = r.request('double', 1);
  assert.equal(r.abandon(a.id, new Error('cancelled')), true);
  assert.equal(r.abandon(a.id, new Error('again')), false);
  await assert.rejects(a.result, /cancelled/);
  assert.equal(r.receive(replyOf<Echo>(a.id, 2)), true, 'consumed, not routed elsewhere');
  assert.equal(r.receive({ type: 'log' }), false);
});

test('requesters that share a counter never reuse an id (a restarted worker)', () => {
  let n = 0;
  const ids = () => ++n;
  const first = new Requester<Echo>(() => undefined, ids);
  const second = new Requester<Echo>(() => undefined, ids);
  assert.deepEqual([first.request('double', 1).id, second.request('double', 1).id], [1, 2]);
});
