/**
 * Every layer × head as a thumbnail; choosing one shows it large. All thumbnails are coloured in one
 * small atlas (n × n pixels each) and scaled to display size by drawImage; a transparent button over
 * each serves the pointer, the keyboard and screen readers: 144 canvases of their own would cost more
 * than the pixels. Layers are drawn as their attention arrives, a few per animation frame, so that
 * the first paint does not wait for 144 heads (BERT-base at 512 tokens reads 151 MB for them).
 */
import type { AttentionResult, ViewSelection } from '../../src/common/protocol';
import { attentionOffset } from '../../src/common/attention/layout';
import { packed, Palette, weightTable } from '../colors';

const GAP = 6;
/** Milliseconds of thumbnails per animation frame after the first layer. */
const FRAME_BUDGET_MS = 8;

/**
 * One head's thumbnail: n × n cells, each the mean of the f × f weights it covers (f = ⌈T / size⌉ so
 * long inputs fit), as colour-table indices 0..255. Kept per result, layer by layer (`done`): a click
 * or a theme change repaints from these instead of reading all layers × heads × T² weights again.
 */
export interface Thumbnails {
  n: number;
  atlas: Uint8Array;
  done: boolean[];
}

const thumbnailCache = new WeakMap<Float32Array, Thumbnails>();

function atlasOf(r: AttentionResult, size: number): Thumbnails {
  let t = thumbnailCache.get(r.attention);
  if (!t) {
    const T = r.tokens.length;
    const n = Math.ceil(T / Math.ceil(T / size));
    const done = Array.from({ length: r.model.layers }, () => false);
    t = { n, atlas: new Uint8Array(r.model.layers * r.model.heads * n * n), done };
    thumbnailCache.set(r.attention, t);
  }
  return t;
}

/** The thumbnails of one layer's heads, computed once per result. */
export function thumbnailLayer(r: AttentionResult, size: number, layer: number): Thumbnails {
  const t = atlasOf(r, size);
  if (t.done[layer]) return t;
  const { n, atlas } = t;
  const T = r.tokens.length;
  const f = Math.ceil(T / size);
  const { heads } = r.model;
  // Row-major atlas: head h of layer l is the n × n block at column h·n, row l·n.
  const stride = heads * n;
  // Per thumbnail row: add its f attention rows into one row of column sums (contiguous, the hot
  // loop), then pool that row into n cells.
  const columnSums = new Float64Array(T);
  const data = r.attention;
  for (let h = 0; h < heads; h++) {
    const base = layer * n * stride + h * n;
    for (let i = 0; i < n; i++) {
      columnSums.fill(0);
      const rowsIn = Math.min(f, T - i * f);
      for (let q = i * f; q < i * f + rowsIn; q++) {
        const off = attentionOffset(r, layer, h, q); // row q of head h: [T]
        for (let k = 0; k < T; k++) columnSums[k] += data[off + k];
      }
      for (let j = 0; j < n; j++) {
        let s = 0;
        const end = Math.min(T, (j + 1) * f);
        for (let k = j * f; k < end; k++) s += columnSums[k];
        const mean = s / (rowsIn * (end - j * f));
        atlas[base + i * stride + j] = mean >= 1 ? 255 : mean <= 0 ? 0 : (mean * 255 + 0.5) | 0;
      }
    }
  }
  t.done[layer] = true;
  return t;
}

/** Every layer's thumbnails. */
export function thumbnails(r: AttentionResult, size: number): Thumbnails {
  for (let l = 0; l < r.model.layers; l++) thumbnailLayer(r, size, l);
  return atlasOf(r, size);
}

export interface Grid {
  /** Draws the layers whose attention has arrived since (a few per frame); marks the grid complete after the last. */
  drawArrived(): void;
}

/** `hasLayer`: whether a layer's attention is in (the others are drawn when `drawArrived` is called again). */
export function renderGrid(
  host: HTMLElement,
  r: AttentionResult,
  selected: Pick<ViewSelection, 'layer' | 'head'>,
  palette: Palette,
  onPick: (layer: number, head: number) => void,
  hasLayer: (layer: number) => boolean,
): Grid {
  const T = r.tokens.length;
  const { layers, heads } = r.model;
  const size = Math.max(32, Math.min(96, T * 4));
  const table = document.createElement('div');
  table.className = 'grid';
  table.dataset.layers = String(layers);
  table.dataset.heads = String(heads);
  table.style.gridTemplateColumns = `auto repeat(${heads}, ${size + GAP}px)`;
  table.style.gridTemplateRows = `auto repeat(${layers}, ${size + GAP}px)`;
  table.setAttribute('role', 'grid');
  table.setAttribute('aria-label', `All ${layers} layers by ${heads} heads`);

  const canvas = document.createElement('canvas');
  canvas.className = 'grid-canvas';
  canvas.width = heads * (size + GAP);
  canvas.style.gridRow = `2 / span ${layers}`;
  canvas.style.gridColumn = `2 / span ${heads}`;
  canvas.height = layers * (size + GAP);
  const { n } = atlasOf(r, size);
  const small = document.createElement('canvas');
  small.width = heads * n;
  small.height = layers * n;
  const smallCtx = small.getContext('2d')!;
  const image = smallCtx.createImageData(small.width, small.height);
  const px = new Int32Array(image.data.buffer);
  const lut = packed(weightTable(palette));
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  table.append(document.createElement('span'), canvas);

  for (let h = 0; h < heads; h++) {
    const th = document.createElement('span');
    th.className = 'grid-head';
    th.textContent = `H${h + 1}`;
    th.style.gridRow = '1';
    th.style.gridColumn = String(h + 2);
    table.append(th);
  }
  for (let l = 0; l < layers; l++) {
    const rowLabel = document.createElement('span');
    rowLabel.className = 'grid-layer';
    rowLabel.textContent = `L${l + 1}`;
    rowLabel.style.gridRow = String(l + 2);
    rowLabel.style.gridColumn = '1';
    table.append(rowLabel);
    for (let h = 0; h < heads; h++) {
      const button = document.createElement('button');
      button.className = 'grid-cell';
      button.dataset.layer = String(l);
      button.dataset.head = String(h);
      button.style.gridArea = `${l + 2} / ${h + 2}`;
      button.setAttribute('aria-label', `Layer ${l + 1}, head ${h + 1}`);
      button.setAttribute('aria-pressed', String(l === selected.layer && h === selected.head));
      table.append(button);
    }
  }
  table.addEventListener('click', (e) => {
    const b = (e.target as Element).closest<HTMLElement>('.grid-cell');
    if (b) onPick(Number(b.dataset.layer), Number(b.dataset.head));
  });
  host.replaceChildren(table);

  // Which layers are on the canvas; the count is read by tests.
  const drawn = Array.from({ length: layers }, () => false);
  table.dataset.drawn = '0';
  const drawLayer = (l: number) => {
    const { atlas } = thumbnailLayer(r, size, l);
    for (let i = l * heads * n * n; i < (l + 1) * heads * n * n; i++) px[i] = lut[atlas[i]];
    smallCtx.putImageData(image, 0, 0, 0, l * n, heads * n, n);
    for (let h = 0; h < heads; h++)
      ctx.drawImage(small, h * n, l * n, n, n, h * (size + GAP) + GAP / 2, l * (size + GAP) + GAP / 2, size, size);
    drawn[l] = true;
    table.dataset.drawn = String(drawn.filter(Boolean).length);
    if (drawn.every(Boolean)) performance.mark('attention-lens:grid-complete'); // read by the benchmark
  };
  let scheduled = false;
  /** Draws arrived layers until the frame's budget is spent (at least one), then asks for another frame. */
  const drawSome = () => {
    scheduled = false;
    if (!table.isConnected) return; // a newer render replaced this grid
    const start = performance.now();
    for (let l = 0; l < layers; l++) {
      if (drawn[l] || !hasLayer(l)) continue;
      if (performance.now() - start > FRAME_BUDGET_MS) return schedule();
      drawLayer(l);
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(drawSome);
  };
  // The first arrived layer now, in this render: the first paint shows thumbnails; the rest in frames after it.
  const first = drawn.findIndex((d, l) => !d && hasLayer(l));
  if (first >= 0) drawLayer(first);
  const drawArrived = () => {
    if (drawn.some((d, l) => !d && hasLayer(l))) schedule();
  };
  drawArrived();
  return { drawArrived };
}
