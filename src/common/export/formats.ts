/**
 * Exported files. Token text is data, never markup or a formula: JSON escapes it, CSV quotes it and
 * defuses spreadsheet formulas, SVG escapes it as XML. Pure.
 */
import type { AttentionResult } from '../protocol';
import { attentionRow, tokenVector } from '../attention/layout';

/** Nested arrays [layer][head][query][key] and [state][token][dimension], with the tokens and the model. */
export function toJson(r: AttentionResult): string {
  const T = r.tokens.length;
  const { layers, heads, hidden } = r.model;
  const attention = Array.from({ length: layers }, (_, l) =>
    Array.from({ length: heads }, (_, h) => Array.from({ length: T }, (_, q) => Array.from(attentionRow(r, l, h, q)))),
  ); // [layers][heads][T][T]
  const hiddenStates = Array.from({ length: r.hiddenStateCount }, (_, s) =>
    Array.from({ length: T }, (_, t) => Array.from(tokenVector(r, s, t))),
  ); // [states][T][hidden]
  return JSON.stringify({
    format: 'attention-lens/1',
    model: r.model,
    text: r.text,
    tokens: r.tokens,
    shapes: { attention: [layers, heads, T, T], hiddenStates: [r.hiddenStateCount, T, hidden] },
    attention,
    hiddenStates,
  });
}

/** A CSV field: quoted, with formulas (=, +, -, @, tab, CR at the start) turned into text. */
export function csvField(s: string): string {
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** One row per weight: layer, head, query, query_token, key, key_token, weight (1-based layer and head). */
export function toCsv(r: AttentionResult): string {
  const T = r.tokens.length;
  const labels = r.tokens.map((t) => csvField(t.label));
  const lines = ['layer,head,query,query_token,key,key_token,weight'];
  for (let l = 0; l < r.model.layers; l++) {
    for (let h = 0; h < r.model.heads; h++) {
      for (let q = 0; q < T; q++) {
        const row = attentionRow(r, l, h, q); // [T]
        for (let k = 0; k < T; k++) lines.push(`${l + 1},${h + 1},${q},${labels[q]},${k},${labels[k]},${row[k]}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

export const xmlEscape = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** A [T, T] matrix as SVG: one rect per cell, token labels as escaped text. */
export function matrixSvg(
  labels: string[],
  matrix: ArrayLike<number>,
  color: (w: number, q: number, k: number) => string,
  textColor: string,
  title: string,
): string {
  const T = labels.length;
  const cell = 18;
  const margin = 110;
  const size = margin + T * cell;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" ` +
      `font-family="monospace" font-size="11">`,
    `<title>${xmlEscape(title)}</title>`,
  ];
  labels.forEach((l, i) => {
    parts.push(
      `<text x="${margin - 4}" y="${margin + i * cell + 13}" text-anchor="end" ` +
        `fill="${textColor}">${xmlEscape(l)}</text>`,
    );
    parts.push(
      `<text transform="translate(${margin + i * cell + 13},${margin - 4}) rotate(-90)" ` +
        `fill="${textColor}">${xmlEscape(l)}</text>`,
    );
  });
  for (let q = 0; q < T; q++) {
    for (let k = 0; k < T; k++) {
      const w = matrix[q * T + k];
      parts.push(
        `<rect x="${margin + k * cell}" y="${margin + q * cell}" width="${cell}" height="${cell}" ` +
          `fill="${color(w, q, k)}"><title>${w.toFixed(4)}</title></rect>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}
