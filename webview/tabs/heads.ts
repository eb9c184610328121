/** The Head view tab (after bertviz): lines from each token to the tokens it attends to, one colour per head. */
import { headColor } from '../colors';
import { button, checkbox } from '../controls';
import { renderHeadView } from '../views/headView';
import { el, section, TabModule } from './tab';

export const headsTab: TabModule = {
  id: 'heads',
  title: 'Head view',
  needs: ['result', 'layer', 'headViewHeads', 'palette'],
  data: (v) => ({ attentionLayers: [v.layer], hiddenStates: false }),
  render({ state: { result: r, view: v }, palette, setView }) {
    const pick = el('fieldset', { className: 'head-picks' }, el('legend', { textContent: 'Heads to draw' }));
    for (let h = 0; h < r.model.heads; h++) {
      const box = checkbox(
        `head ${h + 1}`,
        v.headViewHeads.includes(h),
        (checked) => {
          const heads = checked
            ? [...v.headViewHeads, h].sort((a, b) => a - b)
            : v.headViewHeads.filter((x) => x !== h);
          // At least one head stays drawn.
          setView({ headViewHeads: heads.length ? heads : v.headViewHeads });
        },
        { head: String(h) },
      );
      const swatch = el('span', { className: 'swatch' });
      swatch.style.background = headColor(palette, h);
      pick.append(el('span', { className: 'pick' }, swatch, box));
    }
    const all = Array.from({ length: r.model.heads }, (_, h) => h);
    pick.append(button('All heads', () => setView({ headViewHeads: all }), { secondary: true }));
    const view = el('div');
    renderHeadView(view, r, v.layer, v.headViewHeads, palette, undefined);
    const help =
      'Each line joins a token (left) to a token it attends to (right); its opacity is the weight, ' +
      'its colour the head.';
    return { element: section(`Head view · layer ${v.layer + 1}`, help, el('div', {}, pick, view)) };
  },
};
