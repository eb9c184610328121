/**
 * Work for after the next paint: a task queued from an animation frame runs once that frame's rendering is done, so
 * what the page shows now reaches the screen first. A hidden panel (kept alive by retainContextWhenHidden) gets no
 * animation frames: there it runs at once (in a task of its own).
 */
export function afterPaint(work: () => void): void {
  if (document.visibilityState === 'hidden') setTimeout(work);
  else requestAnimationFrame(() => setTimeout(work));
}
