/** Head roles (common/attention/headRoles.ts) as badges on a layers × heads table, each with its definition. */
import type { AttentionResult } from '../../src/common/protocol';
import { headSummary } from '../../src/common/attention/aggregate';
import { headAttention } from '../../src/common/attention/layout';
import { headRoles, inductionScore, Role, ROLES, roleScores } from '../../src/common/attention/headRoles';

const badge = (role: Role, score: number) => {
  const b = document.createElement('span');
  b.className = `role-badge role-${role}`;
  b.dataset.role = role;
  b.textContent = ROLES[role].name;
  b.title = `${ROLES[role].name}: ${score.toFixed(2)} (${ROLES[role].definition}; named at ≥ ${ROLES[role].threshold})`;
  return b;
};

/**
 * A layers × heads table (rows: layers, columns: heads) whose cells `fill` writes; each cell carries its layer and
 * head as data attributes.
 */
export function layersByHeads(
  r: AttentionResult,
  className: string,
  caption: string,
  fill: (cell: HTMLTableCellElement, layer: number, head: number) => void,
): HTMLTableElement {
  const table = document.createElement('table');
  table.className = className;
  table.createCaption().textContent = caption;
  const head = table.createTHead().insertRow();
  for (const h of ['layer', ...Array.from({ length: r.model.heads }, (_, i) => `head ${i + 1}`)]) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (let l = 0; l < r.model.layers; l++) {
    const row = body.insertRow();
    row.insertCell().textContent = String(l + 1);
    for (let h = 0; h < r.model.heads; h++) {
      const cell = row.insertCell();
      cell.dataset.layer = String(l);
      cell.dataset.head = String(h);
      fill(cell, l, h);
    }
  }
  return table;
}

export function renderRoles(host: HTMLElement, r: AttentionResult, open: (layer: number, head: number) => void): void {
  const ids = r.tokens.map((t) => t.id);
  const caption = 'Roles by layer (rows) and head (columns); hover a badge for its score';
  const table = layersByHeads(r, 'roles-table', caption, (cell, l, h) => {
    const scores = roleScores(headSummary(r, l, h), inductionScore(headAttention(r, l, h), ids));
    for (const role of headRoles(scores)) cell.append(badge(role, scores[role]!));
    cell.addEventListener('click', () => open(l, h));
  });
  const legend = document.createElement('dl');
  legend.className = 'roles-legend';
  for (const role of Object.keys(ROLES) as Role[]) {
    const dt = document.createElement('dt');
    dt.textContent = ROLES[role].name;
    const dd = document.createElement('dd');
    dd.textContent = `${ROLES[role].definition}; named at ≥ ${ROLES[role].threshold}.`;
    legend.append(dt, dd);
  }
  host.replaceChildren(table, legend);
}
