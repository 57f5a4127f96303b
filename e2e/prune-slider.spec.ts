import { expect, test } from '@playwright/test';
import { collectPageErrors, EVAL_TIMEOUT_MS, expectModelShown, screenshots, SLOW_TEST_MS, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

test('the sparsity slider (keyboard) re-prunes: metric, cost and the chart change, a point appears', async ({
  page,
}) => {
  test.setTimeout(SLOW_TEST_MS);
  const errors = collectPageErrors(page);
  await page.goto('/');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  // The baseline is not what this flow checks, and on SwiftShader each measurement takes minutes:
  // the slider's measurement runs alone.
  await page.getByRole('region', { name: 'Baseline quality' }).getByRole('button', { name: 'Cancel' }).click();
  const pruned = page.getByRole('region', { name: 'Pruned model' });
  const chart = page.getByRole('region', { name: 'Trade-off' });
  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  await expect(slider).toHaveValue('0');
  await expect(chart.getByTestId('current-point')).toHaveCount(0);
  const flopsBefore = await pruned
    .getByText(/FLOPs$/)
    .last()
    .textContent();

  // Explanations name their paper on focus.
  await slider.focus();
  await expect(page.getByRole('tooltip').filter({ hasText: 'Zhu & Gupta' })).toBeVisible();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.5');
  await expect(pruned.getByRole('progressbar', { name: 'Pruning progress' })).toBeVisible();
  // The UI thread stays responsive while the worker prunes: the page answers at once.
  const t0 = Date.now();
  await page.evaluate(() => 1);
  expect(Date.now() - t0).toBeLessThan(2000);

  await expect(pruned.getByTestId('pruned-metric')).toHaveText(/^\d+(\.\d+)?%$/, { timeout: EVAL_TIMEOUT_MS });
  await expect(chart.getByTestId('current-point')).toHaveCount(1);
  const flopsAfter = await pruned
    .getByText(/FLOPs$/)
    .last()
    .textContent();
  expect(flopsAfter).not.toBe(flopsBefore);
  await expect(chart).toContainText('current configuration');

  // The table view holds the same point as text.
  await chart.getByRole('button', { name: 'Show table' }).click();
  await expect(
    chart.getByRole('table', { name: 'Trade-off points' }).getByRole('row', { name: /current 50%/ }),
  ).toBeVisible();
  await chart.getByRole('button', { name: 'Show chart' }).click();

  // On WebGPU each pruned layer's product was timed in every format that fits its mask; the page
  // says how each ran, with the timings on request.
  const kernels = page.getByTestId('kernel-choices');
  await expect(kernels).toContainText(/^\d+ of \d+ layer products ran on our kernels/);
  await kernels.getByText(/layer products ran on our kernels/).click();
  await expect(
    kernels.getByRole('row', { name: /^0\.attention\.attention\.query .* TF\.js dense \d/ }).first(),
  ).toBeVisible();
  await screenshots(page, 'prune-slider');
  expect(errors).toEqual([]);
});
