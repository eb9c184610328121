/** The All heads tab: every layer × head as a thumbnail, and the sortable per-head summaries. */
import { renderGrid } from '../views/grid';
import { renderSummaries } from '../views/modelView';
import { renderRoles } from '../views/roles';
import { probeControls, renderProbeScores } from '../views/inductionProbe';
import { el, section, TabModule } from './tab';

export const modelTab: TabModule = {
  id: 'model',
  title: 'All heads',
  needs: ['result', 'layer', 'head', 'sort', 'palette'],
  // The first layer's row: the grid draws the others as they arrive, the summaries once all are in.
  data: () => ({ attentionLayers: [0], hiddenStates: false }),
  render({ state: { result: r, view: v, tensors }, palette, setView, host }) {
    const open = (layer: number, head: number) => setView({ layer, head, aggregation: 'layer', tab: 'attention' });
    const gridHost = el('div');
    const grid = renderGrid(gridHost, r, v, palette, open, (l) => tensors.hasLayer(l));
    const table = el('div');
    const summariseHeads = () =>
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
    const roles = el('div');
    const probeScores = el('div');
    const summarise = () => {
      summariseHeads();
      renderRoles(roles, r, open);
      renderProbeScores(probeScores, r);
    };
    let summarised = tensors.complete;
    if (summarised) summarise();
    else table.append(el('p', { className: 'help', textContent: 'Summarising once every layer has arrived…' }));
    return {
      element: el(
        'div',
        {},
        section(
          'All layers × heads',
          'Each thumbnail is one head’s attention matrix. Choose one to open it.',
          gridHost,
        ),
        section(
          'Head summaries',
          'Numbers that point at the heads worth a look: uniform heads have entropy near 1; ' +
            'previous-token and [CLS]/[SEP] heads stand out in their columns.',
          table,
        ),
        section(
          'Head roles',
          'Where each head’s weights go, named by scores on this text: where the weights go, not what the ' +
            'head moves (Value norms) or why. Induction needs a repeated sequence: run the induction probe ' +
            '(random tokens of the model’s vocabulary written twice) or explain a text that repeats.',
          el(
            'div',
            {},
            probeControls(r, (p) => host.notify({ type: 'inductionProbe', ...p })),
            probeScores,
            roles,
          ),
        ),
      ),
      // More layers arrived: draw their thumbnails; with the last one, summarise.
      update: (changed) => {
        if (!changed.has('tensors')) return;
        grid.drawArrived();
        if (!summarised && tensors.complete) {
          summarised = true;
          summarise();
        }
      },
    };
  },
};
