/**
 * Turns the view on screen into a PNG or an SVG for the host to save: the attention map (a canvas
 * with its labels, or vectors for SVG) and the head view (SVG) here, the tabs of several canvases in
 * snapshot.ts.
 */
import { matrixSvg } from '../src/common/export/formats';
import type { AttentionResult } from '../src/common/protocol';
import { css, Palette, weightRGB, RGB } from './colors';
import { displayLabel } from '../src/common/tokenLabel';
import { hasSnapshot, snapshotPng, snapshotSvg } from './snapshot';

/** The figure of the visible tab when it is one canvas with its labels or one SVG (the others: snapshot.ts). */
function figure(): HTMLCanvasElement | SVGSVGElement | undefined {
  return (
    document.querySelector<HTMLCanvasElement | SVGSVGElement>('#tabpanel :is(canvas.heatmap, svg.head-view)') ??
    undefined
  );
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

export async function pngOfView(r: AttentionResult, palette: Palette): Promise<string | undefined> {
  if (hasSnapshot()) return snapshotPng(r, palette);
  const f = figure();
  if (!f) return undefined;
  if (f instanceof HTMLCanvasElement) return f.toDataURL('image/png');
  const box = f.getBoundingClientRect();
  return (await rasterize(serialize(f, palette), Math.ceil(box.width), Math.ceil(box.height))).toDataURL('image/png');
}

/** The visible view as SVG: an SVG view as it is, several canvases as on screen, the attention map as vectors. */
export function svgOfView(r: AttentionResult, matrix: Float32Array, title: string, palette: Palette): string {
  if (hasSnapshot()) return snapshotSvg(r, palette, title);
  const svg = document.querySelector<SVGSVGElement>('#tabpanel svg.head-view, #tabpanel svg.pca');
  if (svg) return serialize(svg, palette);
  const masked: RGB = palette.background.map((b, i) => Math.round(b * 0.9 + palette.foreground[i] * 0.1)) as RGB;
  const color = (w: number, q: number, k: number) => css(r.model.causal && k > q ? masked : weightRGB(palette, w));
  return matrixSvg(
    r.tokens.map((t) => displayLabel(t.label)),
    matrix,
    color,
    css(palette.foreground),
    title,
  );
}
