/** Per-head summaries, sortable, to find the heads worth a look; a row opens that head. */
import type { AttentionResult } from '../../src/common/protocol';
import { headSummary, HeadSummary } from '../../src/common/attention/aggregate';

type Column = keyof Omit<HeadSummary, 'layer' | 'head'> | 'layer';

const COLUMNS: [Column, string, string][] = [
  ['layer', 'layer · head', 'Layer and head'],
  ['entropy', 'entropy', 'Mean row entropy divided by its maximum: 1 = spread evenly, 0 = all on one token'],
  ['self', 'self', 'Mean weight on the token itself'],
  ['previous', 'previous', 'Mean weight on the previous token'],
  ['first', 'first', 'Mean weight on the first token'],
  ['cls', '[CLS]', 'Mean weight on [CLS]-like start tokens'],
  ['sep', '[SEP]', 'Mean weight on [SEP]-like end tokens'],
];

const summaryCache = new WeakMap<Float32Array, HeadSummary[]>();

/**
 * The summaries read every weight (with a logarithm each), which costs more than painting the grid
 * above them: they are computed after the grid is on screen, a layer per task so the panel stays
 * responsive at 512 tokens, and kept for the result.
 */
function whenSummarised(r: AttentionResult, host: HTMLElement, done: (rows: HeadSummary[]) => void): void {
  const cached = summaryCache.get(r.attention);
  if (cached) return done(cached);
  const rows: HeadSummary[] = [];
  const status = document.createElement('p');
  status.className = 'help';
  status.setAttribute('role', 'status');
  status.textContent = 'Summarising every head…';
  host.replaceChildren(status);
  const step = (layer: number) => {
    if (!host.isConnected) return; // a newer render replaced this one
    for (let h = 0; h < r.model.heads; h++) rows.push(headSummary(r, layer, h));
    if (layer + 1 < r.model.layers) {
      status.textContent = `Summarising every head… layer ${layer + 1} of ${r.model.layers}`;
      setTimeout(() => step(layer + 1));
    } else {
      summaryCache.set(r.attention, rows);
      done(rows);
    }
  };
  // Two frames: the first paints the grid, the second starts after it.
  requestAnimationFrame(() => setTimeout(() => step(0)));
}

export function renderSummaries(
  host: HTMLElement,
  r: AttentionResult,
  sort: { column: string; descending: boolean },
  onSort: (column: string) => void,
  onPick: (layer: number, head: number) => void,
): void {
  whenSummarised(r, host, (all) => renderTable(host, all, sort, onSort, onPick));
}

function renderTable(
  host: HTMLElement,
  all: HeadSummary[],
  sort: { column: string; descending: boolean },
  onSort: (column: string) => void,
  onPick: (layer: number, head: number) => void,
): void {
  const rows = [...all];
  const key = (s: HeadSummary) =>
    sort.column === 'layer'
      ? s.layer * 1000 + s.head
      : ((s[sort.column as keyof HeadSummary] as number | undefined) ?? -1);
  rows.sort((a, b) => (sort.descending ? key(b) - key(a) : key(a) - key(b)));
  const table = document.createElement('table');
  table.className = 'summaries';
  table.createCaption().textContent = 'Every head at a glance. Sort by a column; choose a row to open that head.';
  const head = table.createTHead().insertRow();
  for (const [col, label, title] of COLUMNS) {
    const th = document.createElement('th');
    const b = document.createElement('button');
    b.textContent = label + (sort.column === col ? (sort.descending ? ' ▼' : ' ▲') : '');
    b.title = title;
    b.dataset.column = col;
    th.setAttribute('aria-sort', sort.column === col ? (sort.descending ? 'descending' : 'ascending') : 'none');
    b.addEventListener('click', () => onSort(col));
    th.append(b);
    head.append(th);
  }
  const body = table.createTBody();
  for (const s of rows) {
    const row = body.insertRow();
    row.dataset.layer = String(s.layer);
    row.dataset.head = String(s.head);
    const open = document.createElement('button');
    open.textContent = `L${s.layer + 1} · H${s.head + 1}`;
    open.setAttribute('aria-label', `Open layer ${s.layer + 1}, head ${s.head + 1}`);
    open.addEventListener('click', () => onPick(s.layer, s.head));
    row.insertCell().append(open);
    for (const v of [s.entropy, s.self, s.previous, s.first, s.cls, s.sep]) {
      const c = row.insertCell();
      c.className = 'num';
      c.textContent = v === undefined ? '—' : v.toFixed(2);
    }
  }
  host.replaceChildren(table);
}
