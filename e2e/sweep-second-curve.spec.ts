import { expect, test } from '@playwright/test';
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

  // The baseline is not needed here: cancel it to leave the worker to the sweep.
  await page.getByRole('region', { name: 'Baseline quality' }).getByRole('button', { name: 'Cancel' }).click();

  await page.getByLabel('Method', { exact: true }).selectOption('random');
  await chart.getByRole('button', { name: 'Run sweep' }).click();
  await expect(chart.getByRole('progressbar', { name: 'Sweep progress' })).toBeVisible();
  await expect(legend).toContainText('random (running)');
  const randomPoints = chart.locator('[data-curve="random"] circle');
  // Streaming: the first point shows while the sweep is still running.
  await expect(randomPoints).toHaveCount(1, { timeout: EVAL_TIMEOUT_MS });
  await expect(chart.getByRole('button', { name: 'Cancel sweep' })).toBeVisible();
  await expect(randomPoints).toHaveCount(2, { timeout: EVAL_TIMEOUT_MS });
  await expect(chart.getByRole('button', { name: 'Run sweep' })).toBeVisible();
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
