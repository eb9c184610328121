/**
 * Attention flow (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"): the layers
 * as a graph, node (l, i) = token i after layer l, an edge from (l, i) down to (l−1, j) with
 * capacity M_l[i, j] (a layer's mixing matrix: its mean attention, half identity for the residual,
 * as rollout uses). The flow from input token j to output token o is the maximum flow from (L, o)
 * to (0, j). Unlike rollout it is not a product of matrices: a path carries no more than its
 * narrowest edge, and paths share capacity.
 */

/** `mixing[l]` is layer l + 1's [T, T] matrix (row = the token after the layer, column = before it). */
export function attentionFlow(mixing: Float32Array[], T: number, output: number): Float32Array {
  const graph = new FlowGraph(mixing, T);
  return Float32Array.from({ length: T }, (_, j) => graph.maxFlow(output, j));
}

/** Below this a residual capacity counts as used up (the capacities are float32 weights). */
const EPS = 1e-12;

/**
 * The layered graph in arrays (edge e and its reverse e ^ 1 side by side), built once and reused for every
 * (output, input) pair: each max flow starts again from the original capacities. Dinic's algorithm
 * (blocking flows on BFS levels): the first phase already follows the L-step downward paths all at once.
 */
export class FlowGraph {
  private readonly first: Int32Array; // [nodes]: the first edge out of each node, −1 for none
  private readonly next: Int32Array; // [edges]
  private readonly to: Int32Array; // [edges]
  private readonly capacity: Float64Array; // [edges]: as built; even edges down, odd edges their reverse (0)
  private readonly residual: Float64Array; // [edges]
  private readonly level: Int32Array; // [nodes]
  private readonly arc: Int32Array; // [nodes]: Dinic's current edge per node
  private readonly nodes: number;

  constructor(
    mixing: Float32Array[],
    private readonly T: number,
  ) {
    const L = mixing.length;
    this.nodes = (L + 1) * T;
    let edges = 0;
    for (const m of mixing) for (const c of m) if (c > 0) edges += 2;
    this.first = new Int32Array(this.nodes).fill(-1);
    this.next = new Int32Array(edges);
    this.to = new Int32Array(edges);
    this.capacity = new Float64Array(edges);
    this.residual = new Float64Array(edges);
    this.level = new Int32Array(this.nodes);
    this.arc = new Int32Array(this.nodes);
    let e = 0;
    const add = (u: number, v: number, c: number) => {
      this.to[e] = v;
      this.capacity[e] = c;
      this.next[e] = this.first[u];
      this.first[u] = e++;
    };
    for (let l = 1; l <= L; l++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < T; j++) {
          const c = mixing[l - 1][i * T + j];
          if (c <= 0) continue;
          add(l * T + i, (l - 1) * T + j, c); // down: (l, i) → (l−1, j)
          add((l - 1) * T + j, l * T + i, 0); // its reverse, for flow sent back
        }
  }

  /** The maximum flow from output token `output` at the top to input token `input` at the bottom. */
  maxFlow(output: number, input: number): number {
    this.residual.set(this.capacity);
    const source = this.nodes - this.T + output;
    const sink = input;
    let total = 0;
    while (this.levels(source, sink)) {
      this.arc.set(this.first);
      total += this.push(source, sink, Infinity);
    }
    return total;
  }

  /** BFS levels over edges with capacity left; false once the sink cannot be reached. */
  private levels(source: number, sink: number): boolean {
    const level = this.level.fill(-1);
    const queue = new Int32Array(this.nodes);
    let [head, tail] = [0, 0];
    level[source] = 0;
    queue[tail++] = source;
    while (head < tail) {
      const u = queue[head++];
      if (level[sink] >= 0 && level[u] >= level[sink]) break; // nothing beyond the sink's level helps
      for (let e = this.first[u]; e >= 0; e = this.next[e]) {
        const v = this.to[e];
        if (level[v] < 0 && this.residual[e] > EPS) {
          level[v] = level[u] + 1;
          queue[tail++] = v;
        }
      }
    }
    return level[sink] >= 0;
  }

  /** A blocking flow along increasing levels (depth-first, current-arc), as much as `limit` allows from `u`. */
  private push(u: number, sink: number, limit: number): number {
    if (u === sink) return limit;
    let sent = 0;
    for (; this.arc[u] >= 0; this.arc[u] = this.next[this.arc[u]]) {
      const e = this.arc[u];
      const v = this.to[e];
      if (this.residual[e] <= EPS || this.level[v] !== this.level[u] + 1) continue;
      const want = Math.min(limit - sent, this.residual[e]);
      const got = this.push(v, sink, want);
      if (got > 0) {
        this.residual[e] -= got;
        this.residual[e ^ 1] += got;
        sent += got;
      }
      // Less than asked: the edge is full or v is blocked, so the arc is done; else u has sent all it may.
      if (got >= want && limit - sent <= EPS) return sent;
    }
    this.level[u] = -1; // blocked: no more paths through u in this phase
    return sent;
  }
}

/** Â = ½·A + ½·I: the residual connection as half identity (Abnar & Zuidema 2020), for rollout and flow. */
export function withResidual(a: Float32Array, T: number): Float32Array {
  const out = new Float32Array(T * T); // [T, T]
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) out[i * T + j] = 0.5 * a[i * T + j] + (i === j ? 0.5 : 0);
  return out;
}

/** Each row divided by its sum (value-norm matrices become weights that sum to 1, as attention does). */
export function rowNormalized(a: Float32Array, T: number): Float32Array {
  const out = new Float32Array(T * T); // [T, T]
  for (let i = 0; i < T; i++) {
    let s = 0;
    for (let j = 0; j < T; j++) s += a[i * T + j];
    if (s > 0) for (let j = 0; j < T; j++) out[i * T + j] = a[i * T + j] / s;
  }
  return out;
}

/** Row `output` of the rollout Â_L ··· Â_1, [T]: e_o·Â_L···Â_1, one vector–matrix product per layer. */
export function rolloutRow(mixing: Float32Array[], T: number, output: number): Float32Array {
  let row = new Float32Array(T); // [T]
  row[output] = 1;
  for (let l = mixing.length - 1; l >= 0; l--) {
    const next = new Float32Array(T);
    for (let i = 0; i < T; i++) {
      const x = row[i];
      if (x !== 0) for (let j = 0; j < T; j++) next[j] += x * mixing[l][i * T + j];
    }
    row = next;
  }
  return row;
}
