/**
 * Small generated graphs around one fused attention node each (GroupQueryAttention with rotary,
 * window and softcap; MultiHeadAttention; ONNX Attention-23; a BeamSearch wrapper), with seeded random
 * weights. Built in the test, never committed.
 */
import { onnx } from 'onnx-proto';
import { DataType, floatAttr, GraphBuilder, intAttr } from '../../bench/onnxBuilder';

export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

export const floats = (n: number, rnd: () => number) => Float32Array.from({ length: n }, () => rnd());

/** Encodes with the opsets a fused graph imports; `domains` gives nodes their operator domain. */
export function encode(g: GraphBuilder, opset: number, domains: Record<string, string> = {}): Uint8Array {
  for (const n of g.nodes) if (domains[n.opType!]) n.domain = domains[n.opType!];
  const model = onnx.ModelProto.create({
    irVersion: 10,
    producerName: 'attention-lens test',
    opsetImport: [
      { domain: '', version: opset },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: 'fused', node: g.nodes, initializer: g.initializers, input: g.inputs, output: g.outputs },
  });
  // A plain Uint8Array: protobufjs gives a Node Buffer, whose slice() is a view, not a copy.
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

const MS = { GroupQueryAttention: 'com.microsoft', MultiHeadAttention: 'com.microsoft', BeamSearch: 'com.microsoft' };

export interface GqaOptions {
  interleaved?: boolean;
  window?: number;
  softcap?: number;
  rotary?: boolean;
  /** One MatMul makes q, k and v; GroupQueryAttention gets them packed in its query input. */
  packed?: boolean;
}

/** x [1, S, 32] → q (4 heads), k, v (2 kv heads) of 16 → GroupQueryAttention with past and RoPE caches. */
export function gqaGraph(o: GqaOptions, seed = 1): Uint8Array {
  const [D, N, Nk, h, maxPos] = [32, 4, 2, 16, 64];
  const rnd = random(seed);
  const g = new GraphBuilder(false);
  const x = g.input('x', DataType.FLOAT, [1, 'S', D]);
  g.input('past_key', DataType.FLOAT, [1, Nk, 'P', h]);
  g.input('past_value', DataType.FLOAT, [1, Nk, 'P', h]);
  g.input('seqlens_k', DataType.INT32, [1]);
  g.input('total_sequence_length', DataType.INT32, []);
  const proj = (name: string, cols: number) =>
    g.op('MatMul', [x, g.floats(`${name}.w`, floats(D * cols, rnd), [D, cols])], name);
  // RoPE caches: θ_i = 10000^(−2i/h), cos/sin(p·θ_i) for every position p.
  const cos = new Float32Array(maxPos * (h / 2));
  const sin = new Float32Array(maxPos * (h / 2));
  for (let p = 0; p < maxPos; p++) {
    for (let i = 0; i < h / 2; i++) {
      cos[p * (h / 2) + i] = Math.cos(p * 10000 ** ((-2 * i) / h));
      sin[p * (h / 2) + i] = Math.sin(p * 10000 ** ((-2 * i) / h));
    }
  }
  const rotary = o.rotary !== false;
  const separate = () => [proj('q', N * h), proj('k', Nk * h), proj('v', Nk * h)];
  const qkv = o.packed ? [proj('qkv', (N + 2 * Nk) * h), '', ''] : separate();
  const inputs = [
    ...qkv,
    'past_key',
    'past_value',
    'seqlens_k',
    'total_sequence_length',
    rotary ? g.floats('cos_cache', cos, [maxPos, h / 2]) : '',
    rotary ? g.floats('sin_cache', sin, [maxPos, h / 2]) : '',
  ];
  const attrs = [
    intAttr('num_heads', N),
    intAttr('kv_num_heads', Nk),
    intAttr('do_rotary', rotary ? 1 : 0),
    intAttr('rotary_interleaved', o.interleaved ? 1 : 0),
    intAttr('local_window_size', o.window ?? -1),
  ];
  if (o.softcap) attrs.push(floatAttr('softcap', o.softcap));
  g.node('GroupQueryAttention', inputs, 'gqa', attrs, 3);
  g.rename('gqa_output_0', 'out');
  g.rename('gqa_output_1', 'present_key');
  g.rename('gqa_output_2', 'present_value');
  g.output('out', DataType.FLOAT, [1, 'S', N * h]);
  g.output('present_key', DataType.FLOAT, [1, Nk, 'L', h]);
  g.output('present_value', DataType.FLOAT, [1, Nk, 'L', h]);
  return encode(g, 21, MS);
}

/** x [1, S, 32] → com.microsoft.Attention (4 heads of 8, packed QKV weight and bias), lengths as mask_index. */
export function msAttentionGraph(seed = 6): Uint8Array {
  const [D, N] = [32, 4];
  const rnd = random(seed);
  const g = new GraphBuilder(false);
  const inputs = [
    g.input('x', DataType.FLOAT, [1, 'S', D]),
    g.floats('qkv.w', floats(D * 3 * D, rnd), [D, 3 * D]),
    g.floats('qkv.b', floats(3 * D, rnd), [3 * D]),
    g.input('mask_index', DataType.INT32, [1]),
  ];
  g.node('Attention', inputs, 'attention', [intAttr('num_heads', N)]);
  g.output(g.rename('attention_output_0', 'out'), DataType.FLOAT, [1, 'S', D]);
  return encode(g, 17, { Attention: 'com.microsoft' });
}

export interface MhaOptions {
  unidirectional?: boolean;
  past?: boolean;
  mask?: boolean;
}

/** x [1, S, 32] → q, k, v → MultiHeadAttention (4 heads of 8) with its packed bias, padding mask and past. */
export function mhaGraph(o: MhaOptions, seed = 2): Uint8Array {
  const [D, N, h] = [32, 4, 8];
  const rnd = random(seed);
  const g = new GraphBuilder(false);
  const x = g.input('x', DataType.FLOAT, [1, 'S', D]);
  const proj = (name: string) => g.op('MatMul', [x, g.floats(`${name}.w`, floats(D * D, rnd), [D, D])], name);
  const inputs = [proj('q'), proj('k'), proj('v'), g.floats('bias', floats(3 * D, rnd), [3 * D])];
  inputs.push(o.mask ? g.input('key_padding_mask', DataType.INT32, [1, 'L']) : '', '');
  if (o.past) for (const kv of ['key', 'value']) inputs.push(g.input(`past_${kv}`, DataType.FLOAT, [1, N, 'P', h]));
  const attrs = [intAttr('num_heads', N), intAttr('unidirectional', o.unidirectional ? 1 : 0)];
  g.node('MultiHeadAttention', inputs, 'mha', attrs, o.past ? 3 : 1);
  g.rename('mha_output_0', 'out');
  g.output('out', DataType.FLOAT, [1, 'S', D]);
  if (o.past) {
    g.output(g.rename('mha_output_1', 'present_key'), DataType.FLOAT, [1, N, 'L', h]);
    g.output(g.rename('mha_output_2', 'present_value'), DataType.FLOAT, [1, N, 'L', h]);
  }
  return encode(g, 17, MS);
}

export interface OnnxAttentionOptions {
  threeD?: boolean;
  causal?: boolean;
  softcap?: number;
  boolMask?: boolean;
  past?: boolean;
}

/** ONNX Attention-23 on graph inputs: 4 query heads, 2 key/value heads of 8. */
export function onnxAttentionGraph(o: OnnxAttentionOptions): Uint8Array {
  const [N, Nk, h] = [4, 2, 8];
  const g = new GraphBuilder(false);
  const shape = (n: number, len: string) => (o.threeD ? [1, len, n * h] : [1, n, len, h]);
  const inputs = [
    g.input('Q', DataType.FLOAT, shape(N, 'S')),
    g.input('K', DataType.FLOAT, shape(Nk, 'S')),
    g.input('V', DataType.FLOAT, shape(Nk, 'S')),
  ];
  inputs.push(o.boolMask ? g.input('mask', DataType.BOOL, ['S', 'L']) : '');
  if (o.past) for (const kv of ['key', 'value']) inputs.push(g.input(`past_${kv}`, DataType.FLOAT, [1, Nk, 'P', h]));
  const attrs = [intAttr('is_causal', o.causal ? 1 : 0)];
  if (o.threeD) attrs.push(intAttr('q_num_heads', N), intAttr('kv_num_heads', Nk));
  if (o.softcap) attrs.push(floatAttr('softcap', o.softcap));
  g.node('Attention', inputs, 'attention', attrs, o.past ? 3 : 1);
  g.output(g.rename('attention_output_0', 'out'), DataType.FLOAT, o.threeD ? [1, 'S', N * h] : [1, N, 'S', h]);
  if (o.past) {
    g.output(g.rename('attention_output_1', 'present_key'), DataType.FLOAT, [1, Nk, 'L', h]);
    g.output(g.rename('attention_output_2', 'present_value'), DataType.FLOAT, [1, Nk, 'L', h]);
  }
  return encode(g, 23);
}

/** A com.microsoft.BeamSearch node whose decoder (a subgraph attribute) holds the attention. */
export function beamSearchGraph(): Uint8Array {
  const decoder = new GraphBuilder(false);
  const x = decoder.input('input_ids', DataType.INT32, [1, 'S']);
  const cast = decoder.op('Cast', [x], 'cast', [intAttr('to', DataType.FLOAT)]);
  decoder.output(decoder.op('Softmax', [cast], 'softmax'), DataType.FLOAT, [1, 'S']);
  const g = new GraphBuilder(false);
  g.input('input_ids', DataType.INT32, [1, 'S']);
  const graphAttr = {
    name: 'decoder',
    type: onnx.AttributeProto.AttributeType.GRAPH,
    g: { name: 'decoder', node: decoder.nodes, input: decoder.inputs, output: decoder.outputs },
  };
  g.node('BeamSearch', ['input_ids'], 'beam', [graphAttr, intAttr('eos_token_id', 2), intAttr('pad_token_id', 0)]);
  g.output(g.rename('beam_output_0', 'sequences'), DataType.INT32, [1, 1, 'L']);
  return encode(g, 17, MS);
}

/** An If node whose branches each hold one `opType` node (com.microsoft), or that node alone at the top. */
export function nestedAttentionGraph(opType: string, nested: boolean): Uint8Array {
  const branch = (name: string) => {
    const b = new GraphBuilder(false);
    b.node(opType, ['x'], `${name}_attention`);
    b.output(b.rename(`${name}_attention_output_0`, `${name}_y`), DataType.FLOAT, [1, 'S', 8]);
    b.nodes.forEach((n) => (n.domain = 'com.microsoft'));
    return { name, node: b.nodes, output: b.outputs };
  };
  const g = new GraphBuilder(false);
  g.input('x', DataType.FLOAT, [1, 'S', 8]);
  if (nested) {
    g.input('cond', DataType.BOOL, []);
    const attr = (name: string) => ({ name, type: onnx.AttributeProto.AttributeType.GRAPH, g: branch(name) });
    g.node('If', ['cond'], 'if', [attr('then_branch'), attr('else_branch')]);
    g.output(g.rename('if_output_0', 'y'), DataType.FLOAT, [1, 'S', 8]);
  } else {
    g.node(opType, ['x'], 'attention');
    g.output(g.rename('attention_output_0', 'y'), DataType.FLOAT, [1, 'S', 8]);
  }
  return encode(g, 17, { [opType]: 'com.microsoft' });
}
