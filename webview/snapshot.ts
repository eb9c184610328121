/**
 * The figures of the visible tab as they are on screen, for the tabs drawn in several canvases
 * (All heads, Embeddings, From scratch): each canvas at its place and size, each SVG, and the
 * labels, as one PNG or one SVG (canvases become <image>s in it, text stays text). The canvases
 * of Embeddings carry no token names on screen (the readout names the hovered row); the export
 * writes them beside the rows, so that the picture can be read on its own.
 */
import type { AttentionResult } from '../src/common/protocol';
import { displayLabel } from '../src/common/tokenLabel';
import { css, Palette } from './colors';
import { SVG_NS } from './svg';

type Item =
  | { kind: 'figure'; el: HTMLCanvasElement | SVGSVGElement; x: number; y: number; w: number; h: number }
  | { kind: 'text'; text: string; x: number; y: number; align: 'start' | 'end'; width: number; font: Font };

/** A label's font: the on-screen one for copied labels, a small monospace for the token names. */
interface Font {
  size: number;
  family: string;
}
const cssFont = (f: Font) => `${f.size}px ${f.family}`;

const FIGURES = '.grid canvas.grid-canvas, canvas.embeddings, svg.pca, canvas.cosine, .compare-maps canvas';
const LABELS = '.grid .grid-head, .grid .grid-layer, .compare-maps figcaption';
/** Canvases whose rows are tokens, and get the token names in the export. */
const TOKEN_ROWS = 'canvas.embeddings, canvas.cosine';
const PAD = 8;
const LABEL_PX = 11;

/** True when the visible tab is one that snapshot() exports. */
export const hasSnapshot = (): boolean => !!document.querySelector(`#tabpanel :is(${FIGURES})`);

function collect(r: AttentionResult, palette: Palette): Item[] {
  const panel = document.getElementById('tabpanel')!;
  const items: Item[] = [];
  const measure = document.createElement('canvas').getContext('2d')!;
  const names: Font = { size: LABEL_PX, family: palette.font.replace(/^\S+\s+/, '') };
  const text = (t: string, x: number, y: number, align: 'start' | 'end', font: Font) => {
    measure.font = cssFont(font);
    items.push({ kind: 'text', text: t, x, y, align, width: measure.measureText(t).width, font });
  };
  for (const el of panel.querySelectorAll<HTMLCanvasElement | SVGSVGElement>(FIGURES)) {
    const b = el.getBoundingClientRect();
    items.push({ kind: 'figure', el, x: b.left, y: b.top, w: b.width, h: b.height });
  }
  for (const el of panel.querySelectorAll<HTMLElement>(LABELS)) {
    const b = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const font = { size: parseFloat(style.fontSize), family: style.fontFamily };
    text(el.textContent ?? '', b.left, b.top + b.height / 2, 'start', font);
  }
  for (const el of panel.querySelectorAll<HTMLCanvasElement>(TOKEN_ROWS)) {
    const b = el.getBoundingClientRect();
    const row = b.height / r.tokens.length;
    if (row < LABEL_PX - 2) continue; // rows thinner than a line of text: names would overlap
    r.tokens.forEach((t, i) => text(displayLabel(t.label), b.left - 4, b.top + (i + 0.5) * row, 'end', names));
  }
  return items;
}

function bounds(items: Item[]): { left: number; top: number; width: number; height: number } {
  const xs = items.flatMap((it) =>
    it.kind === 'figure' ? [it.x, it.x + it.w] : it.align === 'end' ? [it.x - it.width, it.x] : [it.x, it.x + it.width],
  );
  const ys = items.flatMap((it) => (it.kind === 'figure' ? [it.y, it.y + it.h] : [it.y - LABEL_PX, it.y + LABEL_PX]));
  const left = Math.min(...xs) - PAD;
  const top = Math.min(...ys) - PAD;
  return { left, top, width: Math.ceil(Math.max(...xs) - left + PAD), height: Math.ceil(Math.max(...ys) - top + PAD) };
}

async function svgImage(svg: SVGSVGElement, w: number, h: number): Promise<HTMLImageElement> {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute('xmlns', SVG_NS);
  copy.setAttribute('font-family', 'monospace');
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(copy)], { type: 'image/svg+xml' }));
  try {
    const img = new Image(w, h);
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The view as a PNG data URL, at the screen's pixel density. */
export async function snapshotPng(r: AttentionResult, palette: Palette): Promise<string> {
  const items = collect(r, palette);
  const box = bounds(items);
  const scale = window.devicePixelRatio || 1;
  const out = document.createElement('canvas');
  out.width = Math.ceil(box.width * scale);
  out.height = Math.ceil(box.height * scale);
  const ctx = out.getContext('2d')!;
  ctx.scale(scale, scale);
  ctx.fillStyle = css(palette.background);
  ctx.fillRect(0, 0, box.width, box.height);
  ctx.imageSmoothingEnabled = false; // one cell of a small canvas stays one sharp block
  ctx.textBaseline = 'middle';
  ctx.fillStyle = css(palette.foreground);
  for (const it of items) {
    if (it.kind === 'text') {
      ctx.textAlign = it.align === 'end' ? 'right' : 'left';
      ctx.font = cssFont(it.font);
      ctx.fillText(it.text, it.x - box.left, it.y - box.top);
    } else {
      const source = it.el instanceof HTMLCanvasElement ? it.el : await svgImage(it.el, it.w, it.h);
      ctx.drawImage(source, it.x - box.left, it.y - box.top, it.w, it.h);
    }
  }
  return out.toDataURL('image/png');
}

/** The view as SVG text: canvases as embedded PNG images, SVG figures nested, labels as text. */
export function snapshotSvg(r: AttentionResult, palette: Palette, title: string): string {
  const items = collect(r, palette);
  const box = bounds(items);
  const root = document.createElementNS(SVG_NS, 'svg');
  root.setAttribute('xmlns', SVG_NS);
  root.setAttribute('width', String(box.width));
  root.setAttribute('height', String(box.height));
  root.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
  root.setAttribute('style', `background:${css(palette.background)}`);
  const t = document.createElementNS(SVG_NS, 'title');
  t.textContent = title;
  root.append(t);
  const at = (el: Element, attrs: Record<string, string | number>) => {
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    root.append(el);
  };
  for (const it of items) {
    const x = (it.x - box.left).toFixed(1);
    const y = (it.y - box.top).toFixed(1);
    if (it.kind === 'text') {
      const text = document.createElementNS(SVG_NS, 'text');
      text.textContent = it.text; // escaped by the serializer
      at(text, {
        x,
        y,
        'text-anchor': it.align,
        'dominant-baseline': 'middle',
        fill: css(palette.foreground),
        'font-size': it.font.size,
        'font-family': it.font.family,
      });
    } else if (it.el instanceof HTMLCanvasElement) {
      const href = it.el.toDataURL('image/png');
      at(document.createElementNS(SVG_NS, 'image'), {
        x,
        y,
        width: it.w,
        height: it.h,
        href,
        preserveAspectRatio: 'none',
        style: 'image-rendering:pixelated',
      });
    } else {
      at(it.el.cloneNode(true) as SVGSVGElement, { x, y });
    }
  }
  return new XMLSerializer().serializeToString(root);
}
