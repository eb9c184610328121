/**
 * Feeds a graph from its own declared inputs (name, element type, dims), not from one model class's
 * idea of them: other exporters name the mask `input_mask`, the token types `segment_ids`, take
 * int32 ids, a stacked `past_N` cache [2, batch, heads, past, d], position ids, a 4-D float mask, or
 * a fixed length. Each input gets a role when the load starts; one nobody can fill is named then.
 */
import { UserFacingError } from '../common/errors';
import type { GraphIndex } from './graphTaps';
import { DataType } from './onnxModel';
import { describeValue, Dim, ValueInfo } from './graph/valueInfo';

export type Role = 'ids' | 'mask' | 'mask4d' | 'tokenTypes' | 'positions' | 'past' | 'useCacheBranch';

export interface PlannedInput {
  info: ValueInfo;
  role: Role;
  /** mask4d: 1 keeps a key and 0 drops it (the graph multiplies), or 0 keeps and −∞ drops (the graph adds). */
  maskStyle?: 'multiply' | 'add';
}

export interface FeedPlan {
  inputs: PlannedInput[];
  /** Tokens every run must have (a fixed dim of the ids, or of a 4-D mask): shorter texts are padded with the mask. */
  fixedLength?: number;
  /** The graph has a key/value cache input: it is a decoder, run with an empty cache. */
  hasPast: boolean;
  /** Rows of the token embedding table the ids index, where the graph shows it: larger ids cannot run. */
  vocabRows?: number;
}

/** A tensor as both runtimes take it: `new ort.Tensor(type, data, dims)`. */
export interface FeedTensor {
  type: string;
  data: Float32Array | BigInt64Array | Int32Array | Uint16Array | Uint8Array;
  dims: number[];
}

const ROLES: [RegExp, Role][] = [
  [/^use_cache_branch$/, 'useCacheBranch'],
  [/past/i, 'past'],
  [/position/i, 'positions'],
  [/token_type|segment/i, 'tokenTypes'],
  [/mask/i, 'mask'],
  [/(^|[._])(input_ids|ids|input|tokens?)$/i, 'ids'],
];
const INTEGER = new Set<number>([DataType.Int32, DataType.Int64]);
const LAYOUT = new Set(['Slice', 'Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Expand', 'Identity', 'Gather']);

/** How the graph applies a 4-D mask: multiplied into the scores (1 keeps) or added to them (0 keeps). */
function maskStyleOf(index: GraphIndex, input: string): 'multiply' | 'add' | undefined {
  let frontier = [input];
  for (let depth = 0; depth < 8 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const n of index.consumers.get(t) ?? []) {
        if (n.opType === 'Mul' || (n.opType === 'Sub' && n.inputs[1] === t)) return 'multiply';
        if (n.opType === 'Add') return 'add';
        if (n.opType === 'Where') return undefined;
        if (LAYOUT.has(n.opType)) next.push(n.outputs[0]);
      }
    }
    frontier = next;
  }
  return undefined;
}

const cannotFill = (v: ValueInfo, why: string) =>
  new UserFacingError(
    `The model's graph asks for an input ${describeValue(v)} that Attention Lens cannot fill: ${why}. ` +
      'It fills token ids, attention masks (input_mask), token types (segment_ids), position ids, ' +
      'an empty key/value cache and use_cache_branch; export the model with those inputs (e.g. with Optimum) ' +
      'or choose another model.',
  );

/** Rows of the embedding table that the ids input indexes (a Gather of a constant, or a fused embedding). */
function vocabRowsOf(index: GraphIndex, ids: string): number | undefined {
  let frontier = [ids];
  for (let depth = 0; depth < 4 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const n of index.consumers.get(t) ?? []) {
        const table =
          n.opType === 'Gather' && n.inputs[1] === t
            ? n.inputs[0]
            : n.opType === 'EmbedLayerNormalization' && n.inputs[0] === t
              ? n.inputs[2]
              : undefined;
        const rows = table ? index.initializer(table)?.dims[0] : undefined;
        if (rows) return rows;
        if (n.opType === 'Cast' || n.opType === 'Reshape' || n.opType === 'Unsqueeze') next.push(n.outputs[0]);
      }
    }
    frontier = next;
  }
  return undefined;
}

export function planFeeds(inputs: ValueInfo[], index: GraphIndex): FeedPlan {
  const planned: PlannedInput[] = [];
  let fixedLength: number | undefined;
  for (const info of inputs) {
    const role = ROLES.find(([re]) => re.test(info.name))?.[1];
    if (!role) throw cannotFill(info, 'its name says nothing Attention Lens knows');
    const p: PlannedInput = { info, role };
    if ((role === 'ids' || role === 'tokenTypes' || role === 'positions') && !INTEGER.has(info.elemType)) {
      throw cannotFill(info, 'token ids, types and positions must be int32 or int64');
    }
    if (role === 'ids' && typeof info.dims[1] === 'number') fixedLength = info.dims[1];
    if (role === 'mask' && info.dims.length === 4) {
      p.role = 'mask4d';
      p.maskStyle = maskStyleOf(index, info.name);
      if (!p.maskStyle) {
        throw cannotFill(info, 'it is a 4-D mask that is neither added to nor multiplied with the scores');
      }
      const n = info.dims[3];
      if (typeof n === 'number') fixedLength = n;
    } else if (role === 'mask' && info.dims.length !== 2) {
      throw cannotFill(info, `a mask of rank ${info.dims.length} (2 or 4 expected)`);
    }
    planned.push(p);
  }
  if (!planned.some((p) => p.role === 'ids')) {
    const all = inputs.map(describeValue).join(', ');
    throw new UserFacingError(`The model's graph has no token-ids input (its inputs: ${all}): it cannot be fed text.`);
  }
  if (fixedLength !== undefined && !planned.some((p) => p.role === 'mask' || p.role === 'mask4d')) {
    const ids = planned.find((p) => p.role === 'ids')!.info;
    throw new UserFacingError(
      `The model's graph takes exactly ${fixedLength} tokens (${describeValue(ids)}) ` +
        `and has no attention mask to pad a shorter text with: select text of exactly ${fixedLength} tokens, ` +
        'or export the model with a dynamic sequence length.',
    );
  }
  const idsName = planned.find((p) => p.role === 'ids')!.info.name;
  const hasPast = planned.some((p) => p.role === 'past');
  return { inputs: planned, fixedLength, hasPast, vocabRows: vocabRowsOf(index, idsName) };
}

export function tensor(elemType: number, values: ArrayLike<number>, dims: number[], name: string): FeedTensor {
  switch (elemType) {
    case DataType.Int64:
      return { type: 'int64', data: BigInt64Array.from(Array.from(values, BigInt)), dims };
    case DataType.Int32:
      return { type: 'int32', data: Int32Array.from(values), dims };
    case DataType.Float:
      return { type: 'float32', data: Float32Array.from(values), dims };
    // float16 bit patterns of the only values fed: 0, 1 and the lowest finite value (−65504).
    case DataType.Float16: {
      const data = Uint16Array.from(values, (v) => (v === 0 ? 0 : v === 1 ? 0x3c00 : 0xfbff));
      return { type: 'float16', data, dims };
    }
    case 9:
      return { type: 'bool', data: Uint8Array.from(values, (v) => (v ? 1 : 0)), dims };
    default:
      throw new UserFacingError(`The model's input ${name} has element type ${elemType}, which cannot be filled.`);
  }
}

/** An empty cache: the past-length dim (named like "past…", else the one before last) is 0, batch 1. */
export function emptyPastDims(dims: Dim[]): number[] {
  const named = dims.findIndex((d) => typeof d === 'string' && /past/i.test(d));
  const pastAxis = named >= 0 ? named : dims.length - 2;
  return dims.map((d, i) => (i === pastAxis ? 0 : typeof d === 'number' ? d : 1));
}

/**
 * The feeds for one run of `ids` (padded to the plan's fixed length, if any, with the mask off for
 * the padding). `causal`: a 4-D mask keeps only earlier keys.
 */
export function makeFeeds(plan: FeedPlan, ids: number[], causal: boolean): Record<string, FeedTensor> {
  const T = ids.length;
  const L = plan.fixedLength ?? T;
  if (T > L) throw new UserFacingError(`The model takes at most ${L} tokens; this text has ${T}.`);
  const largest = Math.max(...ids);
  if (plan.vocabRows !== undefined && largest >= plan.vocabRows) {
    throw new UserFacingError(
      `The tokenizer gave token id ${largest}, but the model's embedding table has only ` +
        `${plan.vocabRows} rows: its tokenizer.json does not belong to this graph. Use the tokenizer the model ` +
        'was exported with.',
    );
  }
  const feeds: Record<string, FeedTensor> = {};
  const keep = (j: number) => (j < T ? 1 : 0);
  for (const { info, role, maskStyle } of plan.inputs) {
    const t = (values: ArrayLike<number>, dims: number[]) => tensor(info.elemType, values, dims, info.name);
    switch (role) {
      case 'ids':
        feeds[info.name] = t(
          Array.from({ length: L }, (_, i) => ids[i] ?? 0),
          [1, L],
        );
        break;
      case 'tokenTypes':
        feeds[info.name] = t(new Array<number>(L).fill(0), [1, L]);
        break;
      case 'positions':
        feeds[info.name] = t(
          Array.from({ length: L }, (_, i) => i),
          [1, L],
        );
        break;
      case 'mask':
        feeds[info.name] = t(
          Array.from({ length: L }, (_, j) => keep(j)),
          [1, L],
        );
        break;
      case 'useCacheBranch':
        feeds[info.name] = t([0], [1]);
        break;
      case 'past': {
        const dims = emptyPastDims(info.dims);
        feeds[info.name] = t([], dims);
        break;
      }
      case 'mask4d': {
        // [1, 1, L, L]: query i may see key j.
        const sees = (i: number, j: number) => keep(j) === 1 && (!causal || j <= i);
        // Added masks use the lowest float32, as transformers does (−∞ would make a fully masked row NaN).
        const [off, on] = maskStyle === 'multiply' ? [0, 1] : [-3.4028234663852886e38, 0];
        const values = Array.from({ length: L * L }, (_, k) => (sees(Math.floor(k / L), k % L) ? on : off));
        feeds[info.name] = t(values, [1, 1, L, L]);
        break;
      }
    }
  }
  return feeds;
}
