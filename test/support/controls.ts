/** Drives the panel's @vscode-elements controls from Playwright (they live in shadow DOM). */
import type { FrameLocator, Page } from 'playwright-core';

const select = (scope: Page | FrameLocator, label: string) =>
  scope.locator(`vscode-single-select[aria-label="${label}"]`);

/** Picks `value` in the labelled select, as the component does when a person picks it. */
export async function choose(scope: Page | FrameLocator, label: string, value: string): Promise<void> {
  await select(scope, label).evaluate((el, v) => {
    (el as HTMLElement & { value: string }).value = v;
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

export function chosen(scope: Page | FrameLocator, label: string): Promise<string> {
  return select(scope, label).evaluate((el) => (el as HTMLElement & { value: string }).value);
}
