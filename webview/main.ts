/**
 * The panel's entry: a store (store.ts), the router to and from the host (host.ts), and the shell
 * that paints what changed (shell.ts), with one module per tab (tabs/).
 */
import { readPalette } from './colors';
import { Host } from './host';
import { Shell } from './shell';
import { Store } from './store';
import { NEEDS_EVERYTHING } from './tensors';

const app = document.getElementById('app')!;
const widthOf = () => Math.max(240, app.clientWidth - 24);
const store = new Store(readPalette(), widthOf());
// Assigned once below: the host's callbacks need the shell, and the shell needs the host.
// eslint-disable-next-line prefer-const
let shell: Shell | undefined;
const host = new Host(store, {
  banner: (kind, message) => shell?.banner(kind, message),
  clearBanner: () => shell?.clearBanner(),
  firstNeed: (view) => shell?.firstNeed(view) ?? NEEDS_EVERYTHING,
});
shell = new Shell(app, store, host);

let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => store.setPage(undefined, widthOf()), 150);
});
// VS Code changes the body's classes when the theme changes: redraw with the new colours.
new MutationObserver(() => store.setPage(readPalette(), undefined)).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});
host.notify({ type: 'ready' });
