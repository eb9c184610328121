/** The geometry of token vectors: cosine similarity and a 2-D PCA projection. Pure. */

/** cos(a, b) = a·b / (|a| |b|) between every pair of the T rows of a [T, D] matrix. */
export function cosineSimilarity(x: Float32Array, T: number, D: number): Float32Array {
  const norms = Array.from({ length: T }, (_, i) => Math.hypot(...x.subarray(i * D, (i + 1) * D)));
  const out = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += x[i * D + d] * x[j * D + d];
      out[i * T + j] = norms[i] && norms[j] ? dot / (norms[i] * norms[j]) : 0;
    }
  }
  return out;
}

export interface Projection2D {
  /** [T, 2]: each token's coordinates on the first two principal components. */
  points: Float32Array;
  /** Share of the variance along each component. */
  explained: [number, number];
}

/**
 * PCA to two dimensions. With T tokens and D dimensions (T ≪ D), the principal directions come
 * from the T×T Gram matrix of the centred rows, G = X·Xᵀ: its top eigenvectors u_k, scaled by
 * √λ_k, are the tokens' coordinates. Power iteration with deflation; signs fixed so that the
 * largest coordinate of each component is positive (the same input always gives the same picture).
 */
export function pca2(x: Float32Array, T: number, D: number): Projection2D {
  const mean = new Float64Array(D);
  for (let i = 0; i < T; i++) for (let d = 0; d < D; d++) mean[d] += x[i * D + d] / T;
  const g = new Float64Array(T * T);
  for (let i = 0; i < T; i++) {
    for (let j = i; j < T; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += (x[i * D + d] - mean[d]) * (x[j * D + d] - mean[d]);
      g[i * T + j] = g[j * T + i] = s;
    }
  }
  let trace = 0;
  for (let i = 0; i < T; i++) trace += g[i * T + i];
  const points = new Float32Array(T * 2);
  const explained: [number, number] = [0, 0];
  for (let k = 0; k < 2 && T > k; k++) {
    // A deterministic but irregular start: a regular one can be orthogonal to the answer.
    let v = Float64Array.from({ length: T }, (_, i) => (Math.sin(i * 12.9898 + k * 78.233 + 1) * 43758.5453) % 1);
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(T);
      for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) w[i] += g[i * T + j] * v[j];
      const norm = Math.hypot(...w);
      if (norm < 1e-12) break;
      const next = w.map((a) => a / norm);
      const change = Math.hypot(...next.map((a, i) => a - v[i]));
      v = next;
      lambda = norm;
      if (change < 1e-10) break;
    }
    const biggest = v.reduce((best, a) => (Math.abs(a) > Math.abs(best) ? a : best), 0);
    if (biggest < 0) v = v.map((a) => -a);
    const scale = Math.sqrt(Math.max(lambda, 0));
    for (let i = 0; i < T; i++) points[i * 2 + k] = v[i] * scale;
    explained[k] = trace > 0 ? lambda / trace : 0;
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) g[i * T + j] -= lambda * v[i] * v[j];
  }
  return { points, explained };
}
