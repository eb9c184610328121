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
  return Float32Array.from({ length: T }, (_, j) => maxFlow(mixing, T, output, j));
}

/** Edmonds–Karp (shortest augmenting paths) on the layered graph, with reverse edges for the residual. */
function maxFlow(mixing: Float32Array[], T: number, output: number, input: number): number {
  const L = mixing.length;
  const nodes = (L + 1) * T;
  const id = (layer: number, token: number) => layer * T + token;
  // Residual capacities: down edges as given, up edges start at 0. [node][node] in a sparse map per node.
  const cap = Array.from({ length: nodes }, () => new Map<number, number>());
  for (let l = 1; l <= L; l++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) {
        const c = mixing[l - 1][i * T + j];
        if (c <= 0) continue;
        cap[id(l, i)].set(id(l - 1, j), c);
        if (!cap[id(l - 1, j)].has(id(l, i))) cap[id(l - 1, j)].set(id(l, i), 0);
      }
  const source = id(L, output);
  const sink = id(0, input);
  let total = 0;
  for (;;) {
    const parent = new Int32Array(nodes).fill(-1);
    parent[source] = source;
    const queue = [source];
    while (queue.length && parent[sink] < 0) {
      const u = queue.shift()!;
      for (const [v, c] of cap[u]) {
        if (c <= 1e-12 || parent[v] >= 0) continue;
        parent[v] = u;
        queue.push(v);
      }
    }
    if (parent[sink] < 0) return total;
    let push = Infinity;
    for (let v = sink; v !== source; v = parent[v]) push = Math.min(push, cap[parent[v]].get(v)!);
    for (let v = sink; v !== source; v = parent[v]) {
      const u = parent[v];
      cap[u].set(v, cap[u].get(v)! - push);
      cap[v].set(u, (cap[v].get(u) ?? 0) + push);
    }
    total += push;
  }
}
