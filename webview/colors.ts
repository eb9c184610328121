/** Colour scales built from the theme's own --vscode-* colours, so every theme reads well. */

export type RGB = [number, number, number];

function parse(css: string, fallback: RGB): RGB {
  const c = css.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (hex) {
    const h = hex[1].length <= 4 ? [...hex[1]].map((x) => x + x).join('') : hex[1];
    return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as RGB;
  }
  const rgb = /rgba?\(([^)]+)\)/.exec(c);
  if (rgb) return rgb[1].split(',').slice(0, 3).map((x) => parseFloat(x)) as RGB;
  return fallback;
}

export interface Palette {
  /** Distinct colours for heads, from the theme's chart colours. */
  series: RGB[];
  background: RGB;
  foreground: RGB;
  high: RGB;
  negative: RGB;
  font: string;
}

export function readPalette(): Palette {
  const s = getComputedStyle(document.body);
  const v = (name: string) => s.getPropertyValue(name);
  const background = parse(v('--vscode-editor-background'), [30, 30, 30]);
  const foreground = parse(v('--vscode-editor-foreground'), [212, 212, 212]);
  const series = ['blue', 'red', 'green', 'yellow', 'orange', 'purple'].map((c, i) => parse(v(`--vscode-charts-${c}`), [[55, 148, 255], [241, 76, 76], [137, 209, 133], [204, 167, 0], [209, 134, 22], [179, 128, 255]][i] as RGB));
  return {
    series,
    background,
    foreground,
    high: parse(v('--vscode-charts-blue') || v('--vscode-focusBorder'), [55, 148, 255]),
    negative: parse(v('--vscode-charts-red'), [241, 76, 76]),
    font: `${v('--vscode-editor-font-size').trim() || '12px'} ${v('--vscode-editor-font-family').trim() || 'monospace'}`,
  };
}

const mix = (a: RGB, b: RGB, t: number): RGB => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)) as RGB;
export const css = (c: RGB) => `rgb(${c.join(',')})`;

/** 0..1 -> background..accent (sqrt, so small weights are still visible). */
export const weightRGB = (p: Palette, w: number) => mix(p.background, p.high, Math.sqrt(Math.max(0, Math.min(1, w))));
export const weightColor = (p: Palette, w: number) => css(weightRGB(p, w));

/** -1..1 -> negative..background..positive. */
export const signedRGB = (p: Palette, x: number) => (x >= 0 ? mix(p.background, p.high, Math.min(1, x)) : mix(p.background, p.negative, Math.min(1, -x)));

/** A rows × cols canvas, one pixel per cell, to be scaled up with CSS (pixelated) or drawImage. */
export function matrixCanvas(rows: number, cols: number, colorAt: (row: number, col: number) => RGB): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = cols;
  canvas.height = rows;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(cols, rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [R, G, B] = colorAt(r, c);
      const o = (r * cols + c) * 4;
      img.data[o] = R;
      img.data[o + 1] = G;
      img.data[o + 2] = B;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

/** Head h's colour: the theme's chart colours, then the same hues rotated for more heads. */
export function headColor(p: Palette, h: number): string {
  const base = p.series[h % p.series.length];
  const round = Math.floor(h / p.series.length);
  if (round === 0) return css(base);
  return `hsl(from ${css(base)} calc(h + ${round * 23}) s l)`;
}
