/**
 * Paint and hover times of the real panel bundle in headless Chromium, for BERT-base-shaped
 * results (12 layers × 12 heads, hidden 768) at 128 and 512 tokens. Synthetic attention (random
 * rows that sum to 1): the timing depends on the shapes, not on the numbers. A result reaches the
 * page as in VS Code: the message without its tensors, and the URLs of the tensor files (served from
 * the page's origin), which the panel fetches.
 */
import type { Page } from 'playwright-core';
import type { AttentionResult } from '../src/common/protocol';
import { seededRandom } from '../src/common/attention/scoring';
import { launchBrowser } from '../test/support/codeServer';
import { resultMessage, sendToPanel, startWebviewServer } from '../test/support/webviewHarness';
import { Stat, stat } from './stats';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../test/support/models';

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
 * Milliseconds from an event until the frame after it is painted (two animation frames later),
 * through the browser driver (its round trips included, see the floor figures).
 */
async function timeUntilPainted(page: Page, act: () => Promise<void>): Promise<number> {
  await page.evaluate(() => {
    (window as unknown as { __t0: number }).__t0 = performance.now();
  });
  await act();
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
 * Inside the page, from the last result message posted to it: milliseconds until the second animation frame after
 * the panel marked `name` (its first render of the result, or the grid's last thumbnail), and until the tensors were
 * fetched. A string, so that the bundler adds no helper the page lacks.
 */
const sinceMessage = (page: Page, name: string, maxFrames = 3000) =>
  page.evaluate(`(async () => {
  const posted = performance.getEntriesByName('harness:posted').at(-1).startTime;
  const after = (n) => performance.getEntriesByName(n).find((e) => e.startTime >= posted);
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  for (let i = 0; !after(${JSON.stringify(name)}); i++) {
    if (i > ${maxFrames}) throw new Error('no ${name} after the message');
    await frame();
  }
  await frame();
  const fetched = after('attention-lens:first-fetched');
  return { ms: performance.now() - posted, fetchMs: fetched ? fetched.startTime - posted : NaN };
})()`) as Promise<{ ms: number; fetchMs: number }>;

/** Until the panel has fetched every file of the last result (its 'fetched' mark), if one was posted. */
const settled = (page: Page) =>
  page.evaluate(`(async () => {
  const posted = performance.getEntriesByName('harness:posted').at(-1)?.startTime;
  if (posted === undefined) return;
  for (let i = 0; !performance.getEntriesByName('attention-lens:fetched').some((e) => e.startTime >= posted); i++) {
    if (i > 600) throw new Error('the last result was not fetched in 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
})()`);

/**
 * The same for an event, measured inside the page: from dispatching it to the second animation frame after it,
 * without the browser driver's round trips (which load on a shared machine inflates).
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

/**
 * The panel's own work (script and DOM, before layout and paint) after the last message until the view was drawn
 * from its data: the sum of its renders (the result's, and the one when the tensors the tab reads arrived).
 */
const renderAfterMessage = (page: Page, viewMark: string) =>
  page.evaluate((mark) => {
    const posted = performance.getEntriesByName('harness:posted').at(-1)!.startTime;
    const view = performance.getEntriesByName(mark).find((e) => e.startTime >= posted)!.startTime;
    return performance
      .getEntriesByName('attention-lens:render')
      .filter((e) => e.startTime >= posted && e.startTime <= view)
      .reduce((sum, e) => sum + e.duration, 0);
  }, viewMark);

/**
 * Where the first paint's milliseconds went, from the panel's performance measures after the last message (NaN for a
 * panel that does not take them): the view's file requested until its response (`request`), its body read
 * (`body`), copied into the tensor (`decode`), the cells coloured (`colour`), drawn scaled with the labels (`draw`),
 * and the message until the panel's own "painted" mark (a task queued from the frame after the view was drawn: the
 * main thread's part of that frame done).
 */
const firstPaintParts = (page: Page, viewMark: string) =>
  page.evaluate(`(() => {
  const posted = performance.getEntriesByName('harness:posted').at(-1).startTime;
  const view = performance.getEntriesByName(${JSON.stringify(viewMark)}).find((e) => e.startTime >= posted)
    ?.startTime ?? Infinity;
  const sum = (name) => {
    const es = performance.getEntriesByName('attention-lens:' + name)
      .filter((e) => e.startTime >= posted && e.startTime <= view);
    return es.length ? es.reduce((t, e) => t + e.duration, 0) : NaN;
  };
  const painted = performance.getEntriesByName('attention-lens:painted').find((e) => e.startTime >= posted);
  return { request: sum('request'), body: sum('body'), decode: sum('decode'), colour: sum('colour'), draw: sum('draw'),
    painted: painted ? painted.startTime - posted : NaN };
})()`) as Promise<Record<'request' | 'body' | 'decode' | 'colour' | 'draw' | 'painted', number>>;

/** The last render()'s own duration. */
const lastRender = (page: Page) =>
  page.evaluate(() => performance.getEntriesByName('attention-lens:render').at(-1)?.duration ?? NaN);

const lastHover = (page: Page) =>
  page.evaluate(() => performance.getEntriesByName('attention-lens:hover').at(-1)?.duration ?? NaN);

export interface WebviewFigures {
  tokens: number;
  /** A new result on the Attention tab (the default view): message → tensors fetched → matrix painted. */
  resultPaintMs: Stat;
  /** Of it: from the message until the panel had fetched the tensor files the view reads. */
  tensorFetchMs: Stat;
  /** Of it: the panel's render() for the result. */
  resultRenderMs: Stat;
  /** Of it (firstPaintParts): the view's file requested → response, body read, copied; cells coloured; drawn. */
  firstRequestMs: Stat;
  firstBodyMs: Stat;
  firstDecodeMs: Stat;
  colourMs: Stat;
  drawMs: Stat;
  /** Message → the panel's "painted" mark: the main thread's part of the frame that shows the view done. */
  resultPaintedMarkMs: Stat;
  /** A new result on All heads: message → the grid's first paint. */
  gridPaintMs: Stat;
  gridRenderMs: Stat;
  /** Message → every thumbnail of the grid drawn (equal to the first paint when the grid is drawn at once). */
  gridCompleteMs: Stat;
  summariesReadyMs: Stat;
  headViewHoverHandlerMs: Stat;
  headViewHoverMs: Stat;
  heatmapHoverMs: Stat;
  tokenFocusMs: Stat;
  /** The measure's own floor here: the same click and mouse move on the page's title, which has no handler. */
  clickFloorMs: Stat;
  moveFloorMs: Stat;
  tokenFocusInPageMs: Stat;
  /** A token focus on All heads (the strip, nothing else), in page. */
  gridTokenFocusInPageMs: Stat;
  heatmapHoverInPageMs: Stat;
  /** render() for a token focus on the Attention tab. */
  tokenFocusRenderMs: Stat;
}

/** `bundle`: another build of the panel (e.g. an older commit's) to measure instead of dist/webview.js. */
export async function benchWebview(runs: number, bundle?: string): Promise<WebviewFigures[]> {
  const server = await startWebviewServer(bundle);
  const code = readFileSync(bundle ?? path.join(repoRoot, 'dist/webview.js'), 'utf8');
  // The panel marks when a tab is drawn from its data; an older bundle drew it in its first render after the message.
  const viewMark = code.includes('attention-lens:view') ? 'attention-lens:view' : 'attention-lens:render';
  // An older bundle expects the files as the worker split them then (it refuses another split).
  const older = !code.includes('headMeans')
    ? 'no-means'
    : code.includes('HEAD_PIECE_FLOATS')
      ? 'head-files'
      : undefined;
  const browser = await launchBrowser();
  const out: WebviewFigures[] = [];
  try {
    for (const T of [128, 512]) {
      const r = syntheticResult(T);
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.exposeFunction('__toHost', () => undefined);
      await page.goto(`${server.url}?theme=dark`);
      const show = async (tab: string, until = viewMark) => {
        // A new result comes after a model run, by which time the panel has fetched the previous one's files: each
        // figure starts with none of them in flight (they would compete with the new view's file, in this server).
        await settled(page);
        await page.evaluate((t) => {
          (window as unknown as { __state: unknown }).__state = { view: { tab: t } };
        }, tab);
        await sendToPanel(page, resultMessage({ ...r, runId: Math.random() }, older));
        return sinceMessage(page, until);
      };
      const repeat = async (f: () => Promise<number>) => {
        await f(); // warm-up
        const xs: number[] = [];
        for (let i = 0; i < runs; i++) xs.push(await f());
        return stat(xs);
      };
      const tail = (xs: number[]) => stat(xs.slice(1)); // without the warm-up
      const gridRenders: number[] = [];
      const summaries: number[] = [];
      const complete: number[] = [];
      let gridMarks = true; // an older bundle draws the grid at once and marks no completion
      const gridPaintMs = await repeat(async () => {
        const { ms } = await show('model');
        gridRenders.push(await renderAfterMessage(page, viewMark));
        const done =
          gridMarks && (await sinceMessage(page, 'attention-lens:grid-complete', 600).catch(() => undefined));
        gridMarks = !!done;
        complete.push(done ? done.ms : ms);
        await page.locator('table.summaries').waitFor();
        summaries.push(
          await page.evaluate(
            () => performance.now() - performance.getEntriesByName('harness:posted').at(-1)!.startTime,
          ),
        );
        return ms;
      });
      const fetches: number[] = [];
      const renders: number[] = [];
      const parts: Awaited<ReturnType<typeof firstPaintParts>>[] = [];
      const resultPaintMs = await repeat(async () => {
        const { ms, fetchMs } = await show('attention');
        fetches.push(fetchMs);
        renders.push(await renderAfterMessage(page, viewMark));
        parts.push(await firstPaintParts(page, viewMark));
        return ms;
      });
      const part = (k: keyof (typeof parts)[number]) => tail(parts.map((p) => p[k]));
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
      const focusRenders: number[] = [];
      const tokenFocusInPageMs = await repeat(async () => {
        const ms = await inPage(page, 'click', '.token', Math.floor(Math.random() * T));
        focusRenders.push(await lastRender(page));
        return ms;
      });
      const heatmapHoverInPageMs = await repeat(() => inPage(page, 'mousemove', 'canvas.heatmap', 0));
      await show('model');
      const gridTokenFocusInPageMs = await repeat(() => inPage(page, 'click', '.token', Math.floor(Math.random() * T)));
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
      out.push({
        tokens: T,
        resultPaintMs,
        tensorFetchMs: tail(fetches),
        resultRenderMs: tail(renders),
        firstRequestMs: part('request'),
        firstBodyMs: part('body'),
        firstDecodeMs: part('decode'),
        colourMs: part('colour'),
        drawMs: part('draw'),
        resultPaintedMarkMs: part('painted'),
        gridPaintMs,
        gridRenderMs: tail(gridRenders),
        gridCompleteMs: tail(complete),
        summariesReadyMs: tail(summaries),
        headViewHoverHandlerMs: tail(handler),
        headViewHoverMs,
        heatmapHoverMs,
        tokenFocusMs,
        clickFloorMs,
        moveFloorMs,
        tokenFocusInPageMs,
        gridTokenFocusInPageMs,
        heatmapHoverInPageMs,
        tokenFocusRenderMs: tail(focusRenders),
      });
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return out;
}
