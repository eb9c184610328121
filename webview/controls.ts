/**
 * The panel's controls, from @vscode-elements/elements: they look and behave like VS Code's own
 * (theme colours, focus rings, keyboard handling). One place builds them.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';

export function button(
  label: string,
  onClick: () => void,
  opts: {
    title?: string;
    secondary?: boolean;
    disabled?: boolean;
    className?: string;
    data?: Record<string, string>;
  } = {},
): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (opts.title) b.title = opts.title;
  if (opts.secondary) b.setAttribute('secondary', '');
  if (opts.disabled) b.setAttribute('disabled', '');
  if (opts.className) b.className = opts.className;
  Object.assign(b.dataset, opts.data);
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

/** A labelled single select; `aria-label` names it for screen readers and tests. */
export function singleSelect<T extends string | number>(
  label: string,
  options: [T, string][],
  value: T,
  onChange: (v: T) => void,
): HTMLElement {
  const s = document.createElement('vscode-single-select') as HTMLElement & { value: string };
  s.setAttribute('aria-label', label);
  s.setAttribute('label', label);
  s.dataset.control = label;
  for (const [v, text] of options) {
    const o = document.createElement('vscode-option');
    o.setAttribute('value', String(v));
    o.textContent = text;
    if (v === value) o.setAttribute('selected', '');
    s.append(o);
  }
  // Options may mix numbers and names (a head, or the mean of heads): the chosen one is found by its text value.
  s.addEventListener('change', () => {
    const chosen = options.find(([v]) => String(v) === s.value);
    if (chosen) onChange(chosen[0]);
  });
  const wrap = document.createElement('label');
  wrap.className = 'control';
  wrap.append(`${label} `, s);
  return wrap;
}

export function checkbox(
  label: string,
  checked: boolean,
  onChange: (checked: boolean) => void,
  data: Record<string, string> = {},
): HTMLElement {
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.setAttribute('label', label);
  if (checked) c.setAttribute('checked', '');
  Object.assign(c.dataset, data);
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}
