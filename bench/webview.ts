/**
 * Paint and hover times of the real panel bundle in headless Chromium, for BERT-base-shaped
 * results (12 layers × 12 heads, hidden 768) at 128 and 512 tokens. Synthetic attention (random
 * rows that sum to 1): the timing depends on the shapes, not on the numbers.
 */
import type { Page } from 'playwright-core';
import type { AttentionResult } from '../src/common/protocol';
import { seededRandom } from '../src/common/attention/scoring';
import { launchBrowser } from '../test/support/codeServer';
import { sendToPanel, startWebviewServer } from '../test/support/webviewHarness';
import { Stat, stat } from './stats';

export function syntheticResult(T: number, layers = 12, heads = 12, hidden = 768): AttentionResult {
  const rnd = seededRandom(T);
  const attention = new Float32Array(layers * heads * T * T);
  for (let row = 0; row < layers * heads * T; row++) {
    let sum = 0;
    for (let k = 0; k < T; k++) sum += attention[row * T + k] = rnd() ** 4;
    for (let k = 0; k < T; k++) attention[row * T + k] /= sum;
  }
  return {
    runId: T,
    text: 'x'.repeat(T),
    timings: { loadMs: 0, inferenceMs: 0 },
    hiddenStateCount: layers + 1,
    model: {
      id: 'bert-base-shaped',
      label: 'bert-base-shaped',
      modelType: 'bert',
      causal: false,
      layers,
      heads,
      hidden,
      dtype: 'q8',
      runtime: 'wasm',
      file: 'synthetic',
    },
    tokens: Array.from({ length: T }, (_, i) => ({ id: i, label: `tok${i}`, start: i, end: i + 1, special: false })),
    attention,
    hiddenStates: Float32Array.from({ length: (layers + 1) * T * hidden }, () => rnd() * 2 - 1),
  };
}

/**
 * Milliseconds from an event (or, for a message, from its postMessage: the test page's own fetch
 * of the data is not the panel's time) until the frame after it is painted.
 */
async function timeUntilPainted(
  page: Page,
  act: () => Promise<void>,
  from: 'event' | 'message' = 'event',
): Promise<number> {
  await page.evaluate(() => {
    (window as unknown as { __t0: number }).__t0 = performance.now();
  });
  await act();
  if (from === 'message')
    await page.evaluate(() => {
      (window as unknown as { __t0: number }).__t0 = performance.getEntriesByName('harness:posted').at(-1)!.startTime;
    });
  return page.evaluate(
    () =>
      new Promise<number>((resolve) =>
        requestAnimationFrame(() =>
          requestAnimationFrame(() => resolve(performance.now() - (window as unknown as { __t0: number }).__t0)),
        ),
      ),
  );
}

/**
 * The same, measured inside the page: from dispatching the event to the second animation frame after
 * it, without the browser driver's round trips (which load on a shared machine inflates). A string,
 * so that the bundler adds no helper the page lacks.
 */
const inPage = (page: Page, event: 'click' | 'mousemove', selector: string, index: number) =>
  page.evaluate(`(async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  await frame();
  const el = document.querySelectorAll(${JSON.stringify(selector)})[${index}];
  const box = el.getBoundingClientRect();
  const t0 = performance.now();
  if (${JSON.stringify(event)} === 'click') el.click();
  else el.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: box.left + box.width * Math.random(),
    clientY: box.top + box.height * Math.random() }));
  await frame();
  await frame();
  return performance.now() - t0;
})()`) as Promise<number>;

/** The last render()'s own duration (script and DOM work, before layout and paint). */
const lastRender = (page: Page) =>
  page.evaluate(() => performance.getEntriesByName('attention-lens:render').at(-1)?.duration ?? NaN);

/** From the page's postMessage of a result to the panel's handler: the copy of its tensors, not the panel's work. */
const lastArrival = (page: Page) =>
  page.evaluate(() =>
    ['attention-lens:received', 'harness:posted']
      .map((name) => performance.getEntriesByName(name).at(-1)?.startTime ?? NaN)
      .reduce((received, posted) => received - posted),
  );

const lastHover = (page: Page) =>
  page.evaluate(() => performance.getEntriesByName('attention-lens:hover').at(-1)?.duration ?? NaN);

export interface WebviewFigures {
  tokens: number;
  headViewHoverHandlerMs: Stat;
  gridRenderMs: Stat;
  gridPaintMs: Stat;
  summariesReadyMs: Stat;
  matrixPaintMs: Stat;
  headViewHoverMs: Stat;
  heatmapHoverMs: Stat;
  tokenFocusMs: Stat;
  /** The measure's own floor here: the same click and mouse move on the page's title, which has no handler. */
  clickFloorMs: Stat;
  moveFloorMs: Stat;
  /** Of "one matrix: message to paint", the part before the panel's handler runs (the structured clone). */
  messageArrivalMs: Stat;
  tokenFocusInPageMs: Stat;
  heatmapHoverInPageMs: Stat;
}

export async function benchWebview(runs: number): Promise<WebviewFigures[]> {
  const server = await startWebviewServer();
  const browser = await launchBrowser();
  const out: WebviewFigures[] = [];
  try {
    for (const T of [128, 512]) {
      const r = syntheticResult(T);
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.exposeFunction('__toHost', () => undefined);
      await page.goto(`${server.url}?theme=dark`);
      const show = async (tab: string) => {
        await page.evaluate((t) => {
          (window as unknown as { __state: unknown }).__state = { view: { tab: t } };
        }, tab);
        return timeUntilPainted(
          page,
          () => sendToPanel(page, { type: 'result', result: { ...r, runId: Math.random() } }),
          'message',
        );
      };
      const repeat = async (f: () => Promise<number>) => {
        await f(); // warm-up
        const xs: number[] = [];
        for (let i = 0; i < runs; i++) xs.push(await f());
        return stat(xs);
      };
      const gridRenders: number[] = [];
      const summaries: number[] = [];
      const gridPaintMs = await repeat(async () => {
        const t = await show('model');
        gridRenders.push(await lastRender(page));
        await page.locator('table.summaries').waitFor();
        summaries.push(await page.evaluate(() => performance.now() - (window as unknown as { __t0: number }).__t0));
        return t;
      });
      const gridRenderMs = stat(gridRenders.slice(1));
      const summariesReadyMs = stat(summaries.slice(1));
      const arrivals: number[] = [];
      const matrixPaintMs = await repeat(async () => {
        const t = await show('attention');
        arrivals.push(await lastArrival(page));
        return t;
      });
      const messageArrivalMs = stat(arrivals.slice(1));
      const clickFloorMs = await repeat(() => timeUntilPainted(page, () => page.locator('h1').click()));
      const moveFloorMs = await repeat(async () => {
        const box = (await page.locator('h1').boundingBox())!;
        return timeUntilPainted(page, () => page.mouse.move(box.x + box.width * Math.random(), box.y + box.height / 2));
      });
      const heatmapHoverMs = await repeat(async () => {
        const box = (await page.locator('canvas.heatmap').boundingBox())!;
        return timeUntilPainted(page, () =>
          page.mouse.move(box.x + box.width * Math.random(), box.y + box.height * Math.random()),
        );
      });
      const tokenFocusMs = await repeat(() =>
        timeUntilPainted(page, () =>
          page
            .locator('.token')
            .nth(Math.floor(Math.random() * T))
            .click(),
        ),
      );
      const tokenFocusInPageMs = await repeat(() => inPage(page, 'click', '.token', Math.floor(Math.random() * T)));
      const heatmapHoverInPageMs = await repeat(() => inPage(page, 'mousemove', 'canvas.heatmap', 0));
      await show('heads');
      const handler: number[] = [];
      const headViewHoverMs = await repeat(async () => {
        const t = await timeUntilPainted(page, () =>
          page
            .locator(`svg.head-view text.query[data-token="${Math.floor(Math.random() * T)}"]`)
            .dispatchEvent('mouseenter'),
        );
        handler.push(await lastHover(page));
        return t;
      });
      const headViewHoverHandlerMs = stat(handler.slice(1));
      out.push({
        tokens: T,
        headViewHoverHandlerMs,
        gridRenderMs,
        gridPaintMs,
        summariesReadyMs,
        matrixPaintMs,
        headViewHoverMs,
        heatmapHoverMs,
        tokenFocusMs,
        clickFloorMs,
        moveFloorMs,
        messageArrivalMs,
        tokenFocusInPageMs,
        heatmapHoverInPageMs,
      });
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return out;
}
