/** The From scratch tab: the runtime's attention beside the TypeScript recomputation, the walk, and "what if". */
import { renderAllLayers, renderCompare } from '../views/compare';
import { renderPlayground } from '../views/playground';
import { renderWalk } from '../views/walkthrough';
import { displayLabel } from '../../src/common/tokenLabel';
import { el, section, TabModule } from './tab';

export const scratchTab: TabModule = {
  id: 'scratch',
  title: 'From scratch',
  needs: ['result', 'layer', 'head', 'token', 'scratch', 'walk', 'seed', 'palette'],
  // The runtime's map of the layer; the from-scratch numbers come from the worker.
  data: (v) => ({ attentionLayers: [v.layer], hiddenStates: false }),
  render({ state, palette, host, setView, nextSeed }) {
    const { result: r, view: v, scratch, walk } = state;
    if (state.scratchUnavailable) {
      const why = el('p', { className: 'banner busy', textContent: state.scratchUnavailable });
      return { element: section('From scratch', '', why) };
    }
    // The comparison and the walk are per head: with the mean chosen they show head 1.
    const head = v.head === 'mean' ? 0 : v.head;
    const compare = el('div', { className: 'compare' });
    const layerScratch = scratch.get(v.layer);
    if (layerScratch) renderCompare(compare, r, layerScratch, head, palette, (h) => setView({ head: h }));
    else {
      const waiting = state.queryFailed ?? `Recomputing layer ${v.layer + 1} from the model's weights…`;
      compare.append(el('p', { className: 'help', textContent: waiting }));
      if (!state.queryFailed) host.askScratch(r.runId, v.layer);
    }
    const allLayers = el('div', { className: 'all-layers' });
    renderAllLayers(allLayers, r, scratch, () => {
      for (let layer = 0; layer < r.model.layers; layer++) if (!scratch.has(layer)) host.askScratch(r.runId, layer);
    });
    compare.append(allLayers);
    const walkHost = el('div', { className: 'walkthrough' });
    const playHost = el('div', { className: 'playground-host' });
    if (walk && walk.runId === r.runId && walk.layer === v.layer && walk.head === head && walk.token === v.token) {
      renderWalk(walkHost, r, walk, palette);
      renderPlayground(playHost, r, walk, state.seed, palette, nextSeed);
    } else {
      walkHost.append(el('p', { className: 'help', textContent: state.queryFailed ?? 'Computing…' }));
      if (!state.queryFailed) host.askWalk(r.runId, v.layer, head, v.token);
    }
    const headNote = v.head === 'mean' ? ' (mean of heads chosen above: showing head 1)' : '';
    const where = `layer ${v.layer + 1}, head ${head + 1}`;
    const token = displayLabel(r.tokens[v.token].label);
    return {
      element: el(
        'div',
        {},
        section(
          `From scratch vs runtime · ${where}${headNote}`,
          'The same attention recomputed by a small TypeScript ' +
            'implementation (src/common/attention) from the model’s own Q and K weights and this layer’s input, ' +
            'beside the runtime’s numbers.',
          compare,
        ),
        section(
          `Step by step · how “${token}” attends · ${where}`,
          'Click a token above to walk through another one.',
          walkHost,
        ),
        section(
          'What if · other scoring functions, soft and hard attention',
          'The classic menu of attention scores ' + 'on this head’s real q and k.',
          playHost,
        ),
      ),
    };
  },
};
