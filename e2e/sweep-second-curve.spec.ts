import { expect, type Page, test } from '@playwright/test';
import {
  collectPageErrors,
  EVAL_TIMEOUT_MS,
  expectModelShown,
  screenshots,
  seedStorage,
  SLOW_TEST_MS,
  STORED_MAGNITUDE_SWEEP,
  VIEWPORTS,
} from './helpers';

test.use({ viewport: VIEWPORTS[0] });

/**
 * Starts recording each state the sweep row and `curve` go through, as the page changes: its points
 * and whether it shows as running (Cancel sweep, the progress bar, "(running)" in the legend), or
 * the sweep's failure. A wait that polls can miss a state: two points of a small model can arrive
 * within one poll of each other.
 */
async function recordSweep(page: Page, curve: string): Promise<() => Promise<string[]>> {
  await page.getByRole('region', { name: 'Trade-off' }).evaluate((chart, curve) => {
    const seen: string[] = [];
    const state = () => {
      const failed = chart.querySelector('[role="alert"]')?.textContent;
      if (failed) return `failed: ${failed}`;
      const points = chart.querySelectorAll(`[data-curve="${curve}"] circle`).length;
      const shows = [
        [...chart.querySelectorAll('button')].some((b) => b.textContent === 'Cancel sweep') && 'Cancel sweep',
        chart.querySelector('progress[aria-label="Sweep progress"]') && 'progress',
        chart.querySelector('[aria-label="Legend"]')?.textContent?.includes(`${curve} (running)`) && '(running)',
      ].filter(Boolean);
      return `${points} points${shows.length ? `, ${shows.join(', ')}` : ''}`;
    };
    new MutationObserver(() => {
      const s = state();
      if (s !== seen.at(-1)) seen.push(s);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    (window as { sweepStates?: string[] }).sweepStates = seen;
  }, curve);
  return () => page.evaluate(() => (window as { sweepStates?: string[] }).sweepStates ?? []);
}

// A first curve (magnitude) as an earlier session left it in this browser's storage; the test runs
// a sweep for a second method and watches its points arrive one by one.
test('a sweep for a second method streams in a second curve, which survives a reload', async ({ page }) => {
  test.setTimeout(SLOW_TEST_MS);
  const errors = collectPageErrors(page);
  await seedStorage(page, STORED_MAGNITUDE_SWEEP);
  // WASM: a sweep measures a point per sparsity, each minutes long on SwiftShader's WebGPU.
  await page.goto('/?backend=wasm');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  const chart = page.getByRole('region', { name: 'Trade-off' });
  const legend = chart.getByRole('list', { name: 'Legend' });
  await expect(legend).toContainText('magnitude');
  await expect(chart.locator('[data-curve="magnitude"] circle')).toHaveCount(2);

  await page.getByLabel('Method', { exact: true }).selectOption('random');
  const sweepStates = await recordSweep(page, 'random');
  await chart.getByRole('button', { name: 'Run sweep' }).click();
  // Until the sweep ends, however it ends.
  await expect
    .poll(async () => (await sweepStates()).at(-1), { timeout: EVAL_TIMEOUT_MS })
    .toMatch(/^(failed|2 points$)/);
  const running = '1 points, Cancel sweep, progress, (running)';
  // Streaming: the first point showed while the sweep was still running.
  expect(await sweepStates()).toEqual(expect.arrayContaining([running]));
  expect((await sweepStates()).at(-1)).toBe('2 points');
  const randomPoints = chart.locator('[data-curve="random"] circle');
  await expect(chart.locator('[data-curve]')).toHaveCount(2);
  await expect(chart.locator('path.pareto')).toHaveCount(1);

  // Values on focus.
  await randomPoints.first().focus();
  await expect(chart.locator('.chart-readout')).toContainText(/random: \d+% removed, accuracy \d/);
  await screenshots(page, 'sweep-two-curves');

  // Finished sweeps are kept in the browser's storage.
  await page.goto('/?backend=wasm');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  await expect(page.getByRole('region', { name: 'Trade-off' }).locator('[data-curve="random"] circle')).toHaveCount(2);
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('random');
  expect(errors).toEqual([]);
});
