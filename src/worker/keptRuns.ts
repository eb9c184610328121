/**
 * Which runs the worker keeps for questions, and the rows of attention the extension host asks for. The host never
 * holds a run's arrays (HostResult): its hover and tint ask for one row at a time, the panel for from-scratch layers.
 */
import { rowOf } from '../common/attention/aggregate';
import { UserFacingError } from '../common/errors';
import { MEAN_OF_HEADS, type AttentionResult, type RowQuery } from '../common/protocol';
import { readAttentionFiles, readFloatRange, removeTensorFiles, type TensorFiles } from '../node/tensorFiles';
import { attentionOffset, headMeanOffset, tensorPieces } from '../common/attention/layout';
import { RUN_GONE, type LoadedModel } from './explainer';
import type { LoadedSeq2Seq } from './seq2seq';

export interface KeptRun {
  runId: number;
  /** The model that ran it (its from-scratch inputs and copied weights stay usable after a model switch). */
  model: LoadedModel | LoadedSeq2Seq;
  result: AttentionResult;
  /** Where its tensors were written for the panel; only the shown run (and an evicted one) keeps its files. */
  files?: TensorFiles;
  /** Its attention was dropped for the next run; `files` hold it (KeptRuns.evict). */
  evicted?: boolean;
}

const NONE = new Float32Array(0);

/**
 * Kept, at most two runs (a BERT-base run at 512 tokens holds ≈ 190 MB: attention, hidden states, layer inputs):
 * - the shown run, the newest the host received: the panel shows it and asks about it (from scratch, walk, export);
 * - one earlier run that a document's hover still refers to, named by the host when it asks for the new run (the
 *   previously explained document's), so that hovering it keeps working. Its tensor files are removed.
 * Every other run is dropped with its files; questions about it get RUN_GONE. Cancelled runs never enter.
 */
export class KeptRuns {
  /** Newest first. */
  private runs: KeptRun[] = [];

  private find(runId: number): KeptRun {
    const run = this.runs.find((r) => r.runId === runId);
    if (!run) throw new UserFacingError(RUN_GONE);
    return run;
  }

  /**
   * One row of a run's attention (the host's hover and tint). An evicted run's row is read from its file, not
   * the whole run: a hover during the next run must not bring 170 MB back.
   */
  async row(q: RowQuery): Promise<Float32Array> {
    const { result: r, evicted, files } = this.find(q.runId);
    if (!evicted || !files || (q.head === MEAN_OF_HEADS && !files.headMeans)) {
      return attentionRowOf((await this.get(q.runId)).result, q);
    }
    checkRow(r, q);
    const T = r.tokens.length;
    const pieces = tensorPieces(r);
    // The mean's file holds meansOverHeads, which sums the heads in rowOf's order: the same row bit for bit.
    const [names, ranges, start] =
      q.head === MEAN_OF_HEADS
        ? [files.headMeans!, pieces.headMeans, headMeanOffset(r, q.layer) + q.token * T]
        : [files.attention, pieces.attention, attentionOffset(r, q.layer, q.head, q.token)];
    return readFloatRange(names, ranges, start, start + T); // [T]
  }

  /** The run, its attention read back from its files if it was evicted. */
  async get(runId: number): Promise<KeptRun> {
    const run = this.find(runId);
    if (run.evicted && run.files) {
      run.result.attention = await readAttentionFiles(run.result, run.files);
      run.evicted = false;
    }
    return run;
  }

  /**
   * Before a new run: the kept runs' attention (151 MB for BERT-base at 512 tokens) is on disk in their tensor
   * files, so it leaves memory until a question reads it back (get). Otherwise the new run peaks with the old one's
   * attention beside its own. The model's own record of the run is the same object. (The hidden states stay: the
   * model's record holds them too, and they are a tenth of the size.)
   */
  evict(): boolean {
    let any = false;
    for (const r of this.runs) {
      if (r.evicted || !r.files || !r.result.attention.length) continue;
      r.result.attention = NONE;
      r.evicted = any = true;
    }
    return any;
  }

  /**
   * `run` is now the shown run; `keep` is an earlier run still referred to. Drops the rest. `keepFiles`: `keep` is
   * the other side of a comparison shown with `run`, so its files stay until the next run.
   */
  async show(run: KeptRun, keep?: number, keepFiles = false): Promise<void> {
    const earlier = this.runs.find((r) => r.runId === keep && r.runId !== run.runId);
    const dropped = this.runs.filter((r) => r !== earlier && r.runId !== run.runId);
    this.runs = earlier ? [run, earlier] : [run];
    for (const r of dropped) r.model.forget(r.runId);
    // An evicted earlier run's attention is only in its files: they stay until it is dropped.
    const unshown = keepFiles || earlier?.evicted ? undefined : earlier?.files;
    if (unshown) earlier!.files = undefined;
    await Promise.all([...dropped.map((r) => removeTensorFiles(r.files)), removeTensorFiles(unshown)]);
  }
}

/** One row of a run's attention, [T]: a head's, or the mean of the layer's heads (aggregate.ts rowOf). */
export function attentionRowOf(r: AttentionResult, q: RowQuery): Float32Array {
  checkRow(r, q);
  return rowOf(r, q.layer, q.head, q.token).slice(); // [T], a copy: its buffer is transferred, not the attention's
}

function checkRow(r: AttentionResult, q: RowQuery): void {
  const headOk = q.head === MEAN_OF_HEADS || q.head < r.model.heads;
  // The host clamps its selection to the result (clampSelection); anything else is a wrong question, not a row.
  if (q.layer >= r.model.layers || !headOk || q.token >= r.tokens.length) {
    throw new UserFacingError('No such layer, head or token.');
  }
}
