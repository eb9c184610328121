/**
 * Turns the view on screen into a PNG or an SVG for the host to save. Canvas views are copied,
 * SVG views serialised (or rasterised for PNG), grids of thumbnails laid out on one canvas.
 */
import { matrixSvg } from '../src/export/formats';
import type { AttentionResult } from '../src/protocol';
import { css, Palette, weightRGB, RGB } from './colors';
import { displayLabel } from '../src/tokenLabel';

/** The figure of the visible tab: a canvas, an SVG, or a group of canvases. */
function figure(): HTMLCanvasElement | SVGSVGElement | HTMLCanvasElement[] | undefined {
  const panel = document.getElementById('tabpanel');
  if (!panel) return undefined;
  const one = panel.querySelector<HTMLCanvasElement | SVGSVGElement>('canvas.heatmap, svg.head-view, canvas.grid-canvas, canvas.embeddings');
  if (one) return one;
  const many = Array.from(panel.querySelectorAll<HTMLCanvasElement>('.compare-maps canvas'));
  return many.length ? many : undefined;
}

function serialize(svg: SVGSVGElement, palette: Palette): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  copy.setAttribute('style', `background:${css(palette.background)};font-family:monospace;font-size:12px`);
  return new XMLSerializer().serializeToString(copy);
}

async function rasterize(svgText: string, width: number, height: number): Promise<HTMLCanvasElement> {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    c.getContext('2d')!.drawImage(img, 0, 0);
    return c;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Several canvases (the comparison's maps) on one image, placed as they were on screen. */
function compose(canvases: HTMLCanvasElement[], palette: Palette): HTMLCanvasElement {
  const boxes = canvases.map((c) => c.getBoundingClientRect());
  const left = Math.min(...boxes.map((b) => b.left));
  const top = Math.min(...boxes.map((b) => b.top));
  const out = document.createElement('canvas');
  out.width = Math.ceil(Math.max(...boxes.map((b) => b.right)) - left) + 8;
  out.height = Math.ceil(Math.max(...boxes.map((b) => b.bottom)) - top) + 8;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = css(palette.background);
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.imageSmoothingEnabled = false;
  canvases.forEach((c, i) => ctx.drawImage(c, boxes[i].left - left + 4, boxes[i].top - top + 4, boxes[i].width, boxes[i].height));
  return out;
}

export async function pngOfView(palette: Palette): Promise<string | undefined> {
  const f = figure();
  if (!f) return undefined;
  if (Array.isArray(f)) return compose(f, palette).toDataURL('image/png');
  if (f instanceof HTMLCanvasElement) return f.toDataURL('image/png');
  const box = f.getBoundingClientRect();
  return (await rasterize(serialize(f, palette), Math.ceil(box.width), Math.ceil(box.height))).toDataURL('image/png');
}

/** The visible SVG view as it is; otherwise the attention matrix being shown, as SVG. */
export function svgOfView(r: AttentionResult, matrix: Float32Array, title: string, palette: Palette): string {
  const svg = document.querySelector<SVGSVGElement>('#tabpanel svg.head-view, #tabpanel svg.pca');
  if (svg) return serialize(svg, palette);
  const masked: RGB = palette.background.map((b, i) => Math.round(b * 0.9 + palette.foreground[i] * 0.1)) as RGB;
  const color = (w: number, q: number, k: number) => css(r.model.causal && k > q ? masked : weightRGB(palette, w));
  return matrixSvg(r.tokens.map((t) => displayLabel(t.label)), matrix, color, css(palette.foreground), title);
}
