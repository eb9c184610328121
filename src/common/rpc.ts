/**
 * Request and reply over a message channel (a worker port, a webview's postMessage): each request
 * carries an id, each answer the id it answers (`inReplyTo`). One helper for both channels, so
 * replies are matched one way everywhere. `Methods` maps a method name to its params and result:
 * the reply's type follows from the request's method, with no sniffing of its content.
 */

export type Methods = Record<string, { params: unknown; result: unknown }>;

export type Request<M extends Methods> = {
  [K in keyof M & string]: { type: 'request'; id: number; method: K; params: M[K]['params'] };
}[keyof M & string];

export type Reply<M extends Methods> =
  | { type: 'reply'; inReplyTo: number; result: M[keyof M]['result'] }
  | { type: 'reply'; inReplyTo: number; error: string };

/** Said while a request runs (loading…, running…); matched like a reply but ends nothing. */
export interface Progress {
  type: 'progress';
  inReplyTo: number;
  message: string;
}

export const replyOf = <M extends Methods>(id: number, result: M[keyof M]['result']): Reply<M> => ({
  type: 'reply',
  inReplyTo: id,
  result,
});
export const errorReply = <M extends Methods>(id: number, error: string): Reply<M> => ({
  type: 'reply',
  inReplyTo: id,
  error,
});

/** 1, 2, 3, … */
export function counter(): () => number {
  let n = 0;
  return () => ++n;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?(message: string): void;
}

/** The asking side: sends requests, matches replies and progress to them by id. */
export class Requester<M extends Methods> {
  private readonly pending = new Map<number, Pending>();

  /** `nextId` may be shared by several requesters (e.g. one per restarted worker) so that ids never repeat. */
  constructor(
    private readonly send: (request: Request<M>) => void,
    private readonly nextId = counter(),
  ) {}

  request<K extends keyof M & string>(
    method: K,
    params: M[K]['params'],
    onProgress?: (message: string) => void,
  ): { id: number; result: Promise<M[K]['result']> } {
    const id = this.nextId();
    const result = new Promise<M[K]['result']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject, onProgress });
    });
    this.send({ type: 'request', id, method, params } as Request<M>);
    return { id, result };
  }

  /** Routes a reply or progress message to its request; false for any other message. */
  receive(m: Reply<M> | Progress | { type: string }): boolean {
    if (m.type !== 'reply' && m.type !== 'progress') return false;
    const answer = m as Reply<M> | Progress;
    const p = this.pending.get(answer.inReplyTo);
    if (!p) return true; // abandoned: a late answer is dropped
    if (answer.type === 'progress') p.onProgress?.(answer.message);
    else {
      this.pending.delete(answer.inReplyTo);
      if ('error' in answer) p.reject(new Error(answer.error));
      else p.resolve(answer.result);
    }
    return true;
  }

  /** Stops waiting for request `id`: rejects it with `error`; its answer, if one comes, is dropped. */
  abandon(id: number, error: Error): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    p.reject(error);
    return true;
  }

  /** The ids still waiting for an answer. */
  get waiting(): number[] {
    return [...this.pending.keys()];
  }
}
