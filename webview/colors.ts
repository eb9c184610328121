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
  if (rgb)
    return rgb[1]
      .split(',')
      .slice(0, 3)
      .map((x) => parseFloat(x)) as RGB;
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
  const series = ['blue', 'red', 'green', 'yellow', 'orange', 'purple'].map((c, i) =>
    parse(
      v(`--vscode-charts-${c}`),
      [
        [55, 148, 255],
        [241, 76, 76],
        [137, 209, 133],
        [204, 167, 0],
        [209, 134, 22],
        [179, 128, 255],
      ][i] as RGB,
    ),
  );
  return {
    series,
    background,
    foreground,
    high: parse(v('--vscode-charts-blue') || v('--vscode-focusBorder'), [55, 148, 255]),
    negative: parse(v('--vscode-charts-red'), [241, 76, 76]),
    font:
      `${v('--vscode-editor-font-size').trim() || '12px'} ` +
      `${v('--vscode-editor-font-family').trim() || 'monospace'}`,
  };
}

const mix = (a: RGB, b: RGB, t: number): RGB => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)) as RGB;
export const css = (c: RGB) => `rgb(${c.join(',')})`;

/** 0..1 -> background..accent (sqrt, so small weights are still visible). */
export const weightRGB = (p: Palette, w: number) => mix(p.background, p.high, Math.sqrt(Math.max(0, Math.min(1, w))));
export const weightColor = (p: Palette, w: number) => css(weightRGB(p, w));

/** -1..1 -> negative..background..positive. */
const signedRGB = (p: Palette, x: number) =>
  x >= 0 ? mix(p.background, p.high, Math.min(1, x)) : mix(p.background, p.negative, Math.min(1, -x));

/** 256 colours for values 0..1 (weights) or −1..1 (signed), and one more for masked cells. */
export interface ColorTable {
  rgba: Uint8ClampedArray;
  signed: boolean;
}

export const MASKED = -1;

export function weightTable(p: Palette): ColorTable {
  return table(p, false, (i) => weightRGB(p, i / 255));
}

export function signedTable(p: Palette): ColorTable {
  return table(p, true, (i) => signedRGB(p, (i / 255) * 2 - 1));
}

function table(p: Palette, signed: boolean, color: (i: number) => RGB): ColorTable {
  const rgba = new Uint8ClampedArray(257 * 4);
  for (let i = 0; i < 257; i++) {
    const c = i === 256 ? (p.background.map((b, k) => Math.round(b * 0.9 + p.foreground[k] * 0.1)) as RGB) : color(i);
    rgba.set([c[0], c[1], c[2], 255], i * 4);
  }
  return { rgba, signed };
}

/**
 * The table as one 32-bit RGBA value per entry, to copy into an ImageData through an Int32Array view.
 * Signed, not Uint32Array: an opaque colour is ≥ 2³¹ as unsigned, which V8 boxes as a double in code it
 * has not optimised yet — and a render runs once, so its loops mostly are not: 30× slower, measured.
 */
export function packed(colors: ColorTable): Int32Array {
  return new Int32Array(colors.rgba.buffer);
}

/**
 * A rows × cols canvas, one pixel per cell, to be scaled up with CSS (pixelated) or drawImage.
 * `valueAt` gives the cell's value (0..1, or −1..1 for a signed table), or MASKED.
 */
export function matrixCanvas(
  rows: number,
  cols: number,
  valueAt: Float32Array | ((row: number, col: number) => number),
  colors: ColorTable,
): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = cols;
  canvas.height = rows;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(cols, rows);
  const px = new Int32Array(img.data.buffer);
  const lut = packed(colors);
  // sqrt in weightRGB makes small weights visible; the table already holds that curve.
  const index = (v: number) =>
    v === MASKED && !colors.signed
      ? 256
      : Math.max(0, Math.min(255, Math.round((colors.signed ? (v + 1) / 2 : v) * 255)));
  if (valueAt instanceof Float32Array && !colors.signed) {
    // index() written out: this loop runs once per picture (262 144 cells at 512 tokens), mostly before V8 has
    // optimised it, where a call per cell costs more than the cell. The same entries: v·255 is exact for a float32
    // v, and ⌊v·255 + ½⌋ (exact too) is Math.round(v·255); NaN gets no colour, as lut[NaN] gave none.
    const masked = lut[256];
    for (let i = 0; i < rows * cols; i++) {
      const v = valueAt[i];
      const x = v * 255 + 0.5;
      px[i] = v === MASKED ? masked : x >= 256 ? lut[255] : x >= 0 ? lut[x | 0] : x < 0 ? lut[0] : 0;
    }
  } else if (valueAt instanceof Float32Array) {
    for (let i = 0; i < rows * cols; i++) px[i] = lut[index(valueAt[i])];
  } else {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) px[r * cols + c] = lut[index(valueAt(r, c))];
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
