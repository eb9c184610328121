/** What a tab of the panel is: the data it draws from, how it draws, and how it follows smaller changes. */
import type { HeadChoice } from '../../src/common/protocol';
import type { Palette } from '../colors';
import type { Host } from '../host';
import type { Key, PanelState } from '../store';
import type { Tab, ViewState } from '../state';

export interface TabContext {
  state: PanelState;
  palette: Palette;
  width: number;
  host: Host;
  setView(patch: Partial<ViewState>): void;
  nextSeed(): void;
}

export interface TabView {
  element: HTMLElement;
  /** Follows a change of keys the tab does not redraw for (e.g. the focused token); optional. */
  update?(changed: ReadonlySet<Key>, ctx: TabContext): void;
}

export interface TabModule {
  id: Tab;
  title: string;
  /** What the tab draws from: a change to any of these redraws the tab; other changes go to `update`. */
  needs: readonly Key[];
  render(ctx: TabContext): TabView;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

export function section(title: string, help: string, body: HTMLElement): HTMLElement {
  return el('section', {}, el('h2', { textContent: title }), el('p', { className: 'help', textContent: help }), body);
}

/** "head 3" or "mean of 12 heads". */
export const headName = (head: HeadChoice, heads: number) =>
  head === 'mean' ? `mean of ${heads} heads` : `head ${head + 1}`;
