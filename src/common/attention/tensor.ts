/** A tensor is a Float32Array plus its shape, row-major. Nothing more is needed to explain attention. */

export interface Tensor {
  data: Float32Array;
  shape: number[];
}

export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function tensor(data: Float32Array | number[], shape: number[]): Tensor {
  const d = data instanceof Float32Array ? data : Float32Array.from(data);
  if (d.length !== size(shape)) throw new Error(`data has ${d.length} values, shape [${shape}] needs ${size(shape)}`);
  return { data: d, shape };
}

export const zeros = (shape: number[]): Tensor => ({ data: new Float32Array(size(shape)), shape });

/** Row r of a 2-D tensor, as a view. */
export function row(t: Tensor, r: number): Float32Array {
  const cols = t.shape[t.shape.length - 1];
  return t.data.subarray(r * cols, (r + 1) * cols);
}

/** Columns [from, from + count) of a 2-D tensor, copied: how one head's slice of a projection is taken. */
export function columns(t: Tensor, from: number, count: number): Tensor {
  const [rows, cols] = t.shape;
  const out = new Float32Array(rows * count);
  for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * cols + from, r * cols + from + count), r * count);
  return { data: out, shape: [rows, count] };
}

export function transpose(t: Tensor): Tensor {
  const [rows, cols] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
  return { data: out, shape: [cols, rows] };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cannot compare ${a.length} values with ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
