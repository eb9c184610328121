/**
 * Blockwise dequantization (MatMulNBits, GatherBlockQuantized) against ONNX Runtime itself: one-node
 * graphs run in onnxruntime-web and -node, and our dequantized matmul / gather must give its output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onnx } from 'onnx-proto';
import * as ortWeb from 'onnxruntime-web';
import {
  BlockIntegers,
  dequantizeBlocks,
  dequantizeBnb4,
  dequantizeNBits,
  unpackIntegers,
} from '../../src/common/attention/dequantize';
import { wasmDir } from '../support/models';
import { NATIVE_CONFIG } from '../../src/worker/runtime';

/** As the product creates native sessions: without it the fused DQ+MatMul quantizes activations (2e-2 off). */
const OPTS = { extra: NATIVE_CONFIG };
import { pathToFileURL } from 'node:url';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ortNode = require('onnxruntime-node') as typeof ortWeb;
ortWeb.env.wasm.wasmPaths = pathToFileURL(wasmDir + '/').href;
ortWeb.env.wasm.numThreads = 1;

const { DataType } = onnx.TensorProto;
const INT = onnx.AttributeProto.AttributeType.INT;

/** Deterministic bytes and floats (a linear congruential generator; no Math.random in tests). */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return {
    bytes: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
    floats: (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * next()),
  };
}

const tensor = (name: string, dataType: number, dims: number[], data: ArrayBufferView): onnx.ITensorProto => ({
  name,
  dataType,
  dims,
  rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
});
const io = (name: string, elemType: number, dims: number[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

function oneNode(
  op: string,
  inputs: string[],
  attrs: Record<string, number>,
  init: onnx.ITensorProto[],
  input: onnx.IValueInfoProto,
  out: number[],
): Uint8Array {
  const attribute = Object.entries(attrs).map(([name, i]) => ({ name, type: INT, i }));
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 10, // int4/uint4 tensors need IR 10
      opsetImport: [
        { domain: '', version: 21 },
        { domain: 'com.microsoft', version: 1 },
      ],
      graph: {
        name: op,
        node: [{ opType: op, domain: 'com.microsoft', input: inputs, output: ['y'], attribute }],
        initializer: init,
        input: [input],
        output: [io('y', DataType.FLOAT, out)],
      },
    }),
  ).finish();
}

async function runBoth(model: Uint8Array, feeds: Record<string, ortWeb.Tensor>, options = {}): Promise<Float32Array[]> {
  const outs: Float32Array[] = [];
  for (const ort of [ortWeb, ortNode]) {
    const s = await ort.InferenceSession.create(model, options);
    const own = Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type, t.data, t.dims)]);
    const r = await s.run(Object.fromEntries(own));
    outs.push(r.y.data as Float32Array);
    await s.release();
  }
  return outs;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

for (const bits of [4, 2]) {
  for (const zp of ['none', 'packed', 'float'] as const) {
    test(`MatMulNBits ${bits} bits, zero points ${zp}, with bias: our dequantized matmul equals ORT's`, async () => {
      const [M, K, N, blockSize] = [3, 80, 24, 32]; // K not a multiple of the block: the last block is partial
      const blocks = Math.ceil(K / blockSize);
      const r = rng(bits * 10 + zp.length);
      const packed = r.bytes((N * blocks * (blockSize * bits)) / 8);
      const scales = r.floats(N * blocks, 0.01, 0.2);
      const bias = r.floats(N, -1, 1);
      const zeroPoints =
        zp === 'packed'
          ? r.bytes(N * Math.ceil((blocks * bits) / 8))
          : zp === 'float'
            ? r.floats(N * blocks, 0, 2 ** bits - 1)
            : undefined;
      const init = [
        tensor('B', DataType.UINT8, [N, blocks, (blockSize * bits) / 8], packed),
        tensor('scales', DataType.FLOAT, [N, blocks], scales),
        tensor('bias', DataType.FLOAT, [N], bias),
      ];
      const zpBytes = N * Math.ceil((blocks * bits) / 8);
      if (zeroPoints instanceof Uint8Array) init.push(tensor('zp', DataType.UINT8, [zpBytes], zeroPoints));
      if (zeroPoints instanceof Float32Array) init.push(tensor('zp', DataType.FLOAT, [N, blocks], zeroPoints));
      const inputs = ['A', 'B', 'scales', zeroPoints ? 'zp' : '', '', 'bias'];
      const attrs = { K, N, bits, block_size: blockSize };
      const model = oneNode('MatMulNBits', inputs, attrs, init, io('A', DataType.FLOAT, [M, K]), [M, N]);
      const a = r.floats(M * K, -1, 1);
      const [web, native] = await runBoth(model, { A: new ortWeb.Tensor('float32', a, [M, K]) });

      const w = dequantizeNBits({ K, N, bits, blockSize, packed, scales, zeroPoints }); // [N, K]
      const ours = new Float32Array(M * N);
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[m * K + k] * w[n * K + k];
          ours[m * N + n] = s + bias[n];
        }
      assert.ok(maxDiff(ours, web) <= 1e-5, `wasm: max |Δ| ${maxDiff(ours, web)}`);
      assert.ok(maxDiff(ours, native) <= 1e-5, `native: max |Δ| ${maxDiff(ours, native)}`);
      assert.ok(Math.max(...ours.map(Math.abs)) > 0.1, 'the outputs are not all near zero');
    });
  }
}

const gatherCases: [BlockIntegers, boolean][] = [
  ['uint8x4', false],
  ['uint8x4', true],
  ['int4', false],
  ['uint4', true],
  ['uint8', true],
];
for (const [format, zeroPoints] of gatherCases) {
  const label = `${format}${zeroPoints ? ' with zero points' : ''}`;
  test(`GatherBlockQuantized ${label}: our dequantized rows equal ORT's`, async () => {
    const [rows, cols, blockSize] = [7, 64, 16];
    const blocks = cols / blockSize;
    const r = rng(format.length * 7 + (zeroPoints ? 1 : 0));
    const perByte = format === 'uint8' ? 1 : 2;
    const data = r.bytes((rows * cols) / perByte);
    const zpBytes = zeroPoints ? r.bytes((rows * blocks) / perByte) : undefined;
    const scales = r.floats(rows * blocks, 0.01, 0.5);
    // INT4 = 22, UINT4 = 21: newer than onnx-proto's enum.
    const dataType = format === 'int4' ? 22 : format === 'uint4' ? 21 : DataType.UINT8;
    const stored = format.startsWith('uint8') ? [rows, cols / perByte] : [rows, cols];
    const init = [tensor('data', dataType, stored, data), tensor('scales', DataType.FLOAT, [rows, blocks], scales)];
    const zpDims = format.startsWith('uint8') ? [rows, blocks / perByte] : [rows, blocks];
    if (zpBytes) init.push(tensor('zp', dataType, zpDims, zpBytes));
    const attrs: Record<string, number> = { gather_axis: 0, quantize_axis: 1, block_size: blockSize };
    if (format.startsWith('uint8')) attrs.bits = format === 'uint8' ? 8 : 4;
    const indices = BigInt64Array.from([3n, 0n, 6n, 3n]);
    const inputs = ['data', 'ids', 'scales', ...(zpBytes ? ['zp'] : [])];
    const model = oneNode('GatherBlockQuantized', inputs, attrs, init, io('ids', DataType.INT64, [4]), [4, cols]);
    const [web, native] = await runBoth(model, { ids: new ortWeb.Tensor('int64', indices, [4]) });

    const table = dequantizeBlocks(
      unpackIntegers(data, rows * cols, format),
      [rows, cols],
      1,
      blockSize,
      scales,
      zpBytes && unpackIntegers(zpBytes, rows * blocks, format),
      format,
    );
    const ours = new Float32Array(4 * cols);
    indices.forEach((i, j) => ours.set(table.subarray(Number(i) * cols, (Number(i) + 1) * cols), j * cols));
    assert.ok(maxDiff(ours, web) <= 1e-6, `wasm: max |Δ| ${maxDiff(ours, web)}`);
    assert.ok(maxDiff(ours, native) <= 1e-6, `native: max |Δ| ${maxDiff(ours, native)}`);
  });
}

for (const quantType of [0, 1]) {
  test(`MatMulBnb4 ${quantType ? 'NF4' : 'FP4'}: our dequantized matmul equals ORT's`, async () => {
    const [M, K, N, blockSize] = [2, 64, 12, 32];
    const r = rng(40 + quantType);
    const packed = r.bytes((N * K) / 2);
    const absmax = r.floats((N * K) / blockSize, 0.1, 2);
    const init = [
      tensor('B', DataType.UINT8, [(N * K) / 2], packed),
      tensor('absmax', DataType.FLOAT, [(N * K) / blockSize], absmax),
    ];
    const attrs = { K, N, block_size: blockSize, quant_type: quantType };
    const model = oneNode('MatMulBnb4', ['A', 'B', 'absmax'], attrs, init, io('A', DataType.FLOAT, [M, K]), [M, N]);
    const a = r.floats(M * K, -1, 1);
    const [web, native] = await runBoth(model, { A: new ortWeb.Tensor('float32', a, [M, K]) });
    const w = dequantizeBnb4(packed, absmax, K, N, blockSize, quantType); // [N, K]
    const ours = new Float32Array(M * N);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[m * K + k] * w[n * K + k];
        ours[m * N + n] = s;
      }
    assert.ok(maxDiff(ours, web) <= 1e-5, `wasm: max |Δ| ${maxDiff(ours, web)}`);
    assert.ok(maxDiff(ours, native) <= 1e-5, `native: max |Δ| ${maxDiff(ours, native)}`);
  });
}

for (const withZero of [false, true]) {
  test(
    `blockwise DequantizeLinear (opset 21, int4, axis 0)` + `${withZero ? ' with zero points' : ''} equals ORT's`,
    async () => {
      const [K, N, blockSize] = [64, 8, 16];
      const blocks = K / blockSize;
      const r = rng(60 + Number(withZero));
      const data = r.bytes((K * N) / 2);
      const scales = r.floats(blocks * N, 0.01, 0.3);
      const zp = withZero ? r.bytes((blocks * N) / 2) : undefined;
      const init = [tensor('q', 22, [K, N], data), tensor('scale', DataType.FLOAT, [blocks, N], scales)];
      if (zp) init.push(tensor('zp', 22, [blocks, N], zp));
      const model = onnx.ModelProto.encode(
        onnx.ModelProto.create({
          irVersion: 10,
          opsetImport: [{ domain: '', version: 21 }],
          graph: {
            name: 'dq',
            node: [
              {
                opType: 'DequantizeLinear',
                input: ['q', 'scale', ...(zp ? ['zp'] : [])],
                output: ['w'],
                attribute: [
                  { name: 'axis', type: INT, i: 0 },
                  { name: 'block_size', type: INT, i: blockSize },
                ],
              },
              { opType: 'MatMul', input: ['A', 'w'], output: ['y'] },
            ],
            initializer: init,
            input: [io('A', DataType.FLOAT, [1, K])],
            output: [io('y', DataType.FLOAT, [1, N])],
          },
        }),
      ).finish();
      const a = r.floats(K, -1, 1);
      const [web, native] = await runBoth(model, { A: new ortWeb.Tensor('float32', a, [1, K]) }, OPTS);
      const w = dequantizeBlocks(
        unpackIntegers(data, K * N, 'int4'),
        [K, N],
        0,
        blockSize,
        scales,
        zp && unpackIntegers(zp, blocks * N, 'int4'),
        'int4',
      ); // [K, N]
      const ours = new Float32Array(N);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) ours[n] += a[k] * w[k * N + n];
      assert.ok(maxDiff(ours, web) <= 1e-5, `wasm: max |Δ| ${maxDiff(ours, web)}`);
      assert.ok(maxDiff(ours, native) <= 1e-5, `native: max |Δ| ${maxDiff(ours, native)}`);
    },
  );
}
