/** The Embeddings tab: each token's vector per residual-stream state, its PCA, and cosine similarities. */
import { button, singleSelect } from '../controls';
import { renderCosine, renderEmbeddings, renderPca, stateName } from '../views/embeddings';
import { el, section, TabModule } from './tab';

export const embeddingsTab: TabModule = {
  id: 'embeddings',
  title: 'Embeddings',
  needs: ['result', 'hiddenState', 'palette', 'width'],
  data: () => ({ attentionLayers: [], hiddenStates: true }),
  render({ state: { result: r, view: v }, palette, width, setView }) {
    // Some graphs expose no (or not every) hidden state: the note says why, no other tensor stands in.
    const note = r.hiddenStatesNote && el('p', { className: 'banner busy', textContent: r.hiddenStatesNote });
    if (r.hiddenStateCount === 0) {
      return { element: el('div', {}, note || el('p', { textContent: 'No hidden states.' })) };
    }
    const states = Array.from({ length: r.hiddenStateCount }, (_, s) => [s, stateName(r, s)] as [number, string]);
    const last = r.hiddenStateCount - 1;
    const step = (by: number) => () => setView({ hiddenState: v.hiddenState + by });
    const prev = button('◀ earlier', step(-1), { secondary: true, disabled: v.hiddenState === 0 });
    const next = button('later ▶', step(1), { secondary: true, disabled: v.hiddenState === last });
    const select = singleSelect('State', states, v.hiddenState, (hiddenState) => setView({ hiddenState }));
    const controls = el('div', { className: 'controls' }, select, prev, next);
    const heat = el('div');
    renderEmbeddings(heat, r, v.hiddenState, palette, width);
    const pca = el('div');
    renderPca(pca, r, v.hiddenState, palette);
    const cos = el('div');
    renderCosine(cos, r, v.hiddenState, palette);
    return {
      element: el(
        'div',
        {},
        ...(note ? [note] : []),
        controls,
        section(
          `Vectors · ${stateName(r, v.hiddenState)}`,
          'Each row is a token’s vector: its embedding (token ' +
            '+ position) before the first layer, then the residual stream after each layer. Blue is positive, red ' +
            'negative.',
          heat,
        ),
        section(
          'Tokens in two dimensions (PCA)',
          'Similar vectors land close together. After the layers, the same ' + 'word moves with its context.',
          pca,
        ),
        section('Cosine similarity between tokens', 'Blue: pointing the same way; red: opposite.', cos),
      ),
    };
  },
};
