import { expect, test } from '@playwright/test';
import {
  collectPageErrors,
  EVAL_TIMEOUT_MS,
  expectModelShown,
  metricPanel,
  screenshots,
  seedStorage,
  SLOW_TEST_MS,
  STORED_MAGNITUDE_SWEEP,
  VIEWPORTS,
} from './helpers';

test.use({ viewport: VIEWPORTS[0] });

// ?debug=lose-device shows a button that makes the worker call GPUDevice.destroy(): a real device
// loss as WebGPU defines it (the device's `lost` promise resolves, every buffer on it is gone).
test('after a lost GPU device the worker recovers: configuration, slider and curve stay, the metric is measured again', async ({
  page,
}) => {
  // Two measurements of the eval set on SwiftShader: the one the loss interrupts, the one after.
  test.setTimeout(SLOW_TEST_MS + EVAL_TIMEOUT_MS);
  const errors = collectPageErrors(page);
  // A sweep an earlier session ran, kept in this browser's storage (a sweep here takes minutes of SwiftShader per point).
  await seedStorage(page, STORED_MAGNITUDE_SWEEP);
  await page.goto('/?debug=lose-device');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  const status = page.getByRole('region', { name: 'Status' });
  await expect(status.locator('.backend')).toContainText('webgpu');
  // The baseline is not needed here: cancel it to leave the worker to the prune.
  await metricPanel(page).getByRole('button', { name: 'Cancel' }).click();

  const chart = page.getByRole('region', { name: 'Trade-off' });
  const curve = chart.locator('[data-curve="magnitude"] circle');
  await expect(curve).toHaveCount(2);
  const pruned = page.getByRole('region', { name: 'Pruned model' });
  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  await slider.focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.5');
  // The first batches give an estimate while the rest of the eval set is measured.
  await expect(pruned.getByTestId('pruned-metric-estimate')).toContainText(
    /≈ \d+(\.\d+)?%.*estimate on \d+ of 1,000 images/,
    { timeout: EVAL_TIMEOUT_MS },
  );

  // Lose the device in the middle of that measurement.
  await status.getByRole('button', { name: 'Lose the GPU device' }).click();
  await expect(status.getByText('GPU device lost — recovered')).toBeVisible({ timeout: 120_000 });
  await expect(status.locator('.backend')).toContainText('webgpu');

  // Nothing the user built is lost...
  await expect(slider).toHaveValue('0.5');
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('magnitude');
  await expect(curve).toHaveCount(2);
  // ...and the configuration is measured again on the new device: an estimate, then the value.
  await expect(pruned.getByTestId('pruned-metric-estimate')).toBeVisible({ timeout: EVAL_TIMEOUT_MS });
  await screenshots(page, 'device-loss-recovering');
  await expect(pruned.getByTestId('pruned-metric')).toHaveText(/^\d+(\.\d+)?%$/, { timeout: EVAL_TIMEOUT_MS });
  await expect(chart.getByTestId('current-point')).toHaveCount(1);
  await expect(curve).toHaveCount(2);
  await screenshots(page, 'device-loss-recovered');
  expect(errors).toEqual([]);
});
