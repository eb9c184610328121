/** The All heads tab: every layer × head as a thumbnail, and the sortable per-head summaries. */
import { renderGrid } from '../views/grid';
import { renderSummaries } from '../views/modelView';
import { el, section, TabModule } from './tab';

export const modelTab: TabModule = {
  id: 'model',
  title: 'All heads',
  needs: ['result', 'layer', 'head', 'sort', 'palette'],
  render({ state: { result: r, view: v }, palette, setView }) {
    const open = (layer: number, head: number) => setView({ layer, head, aggregation: 'layer', tab: 'attention' });
    const grid = el('div');
    renderGrid(grid, r, v, palette, open);
    const table = el('div');
    renderSummaries(
      table,
      r,
      v.sort,
      (column) =>
        setView({
          sort: { column, descending: v.sort.column === column ? !v.sort.descending : column !== 'layer' },
        }),
      open,
    );
    return {
      element: el(
        'div',
        {},
        section('All layers × heads', 'Each thumbnail is one head’s attention matrix. Choose one to open it.', grid),
        section(
          'Head summaries',
          'Numbers that point at the heads worth a look: uniform heads have entropy near 1; ' +
            'previous-token and [CLS]/[SEP] heads stand out in their columns.',
          table,
        ),
      ),
    };
  },
};
