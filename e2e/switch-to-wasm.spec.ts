import { expect, test } from '@playwright/test';
import { collectPageErrors, EVAL_TIMEOUT_MS, expectModelShown, metricPanel, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

// Here WebGPU is SwiftShader, a software adapter: the status bar says so and offers WASM. Switching
// reloads the page on WASM with the same configuration, and the pruned model is measured there.
test('on a software WebGPU adapter the page offers WASM and keeps the configuration when switching', async ({
  page,
}) => {
  test.setTimeout(EVAL_TIMEOUT_MS);
  const errors = collectPageErrors(page);
  await page.goto('/');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  const status = page.getByRole('region', { name: 'Status' });
  await expect(status).toContainText('webgpu');
  await expect(status).toContainText('software fallback');

  await page.getByLabel('Method', { exact: true }).selectOption('wanda');
  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  await slider.focus();
  for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.4');

  await status.getByRole('button', { name: 'Use WASM (faster here)' }).click();
  await expect(page).toHaveURL(/backend=wasm/);
  await expect(status.locator('.backend-name')).toHaveText('wasm');
  // Served cross-origin isolated (vite preview's headers), WASM runs threaded: the status bar gives
  // the thread count, and the threaded start did not fail.
  const threads = status.locator('.backend-threads');
  await expect(threads).toHaveText(/·\s*\d+ threads?$/);
  expect(await threads.getAttribute('title')).not.toMatch(/failed/);
  await expect(status.getByRole('button', { name: /Use WASM/ })).toHaveCount(0);
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('wanda');
  await expect(page.getByRole('slider', { name: 'Global sparsity' })).toHaveValue('0.4');
  await expect(metricPanel(page)).toContainText(/Accuracy\s*\d+(\.\d+)?%/);
  await expect(page.getByRole('region', { name: 'Pruned model' }).getByTestId('pruned-metric')).toHaveText(
    /^\d+(\.\d+)?%$/,
  );
  expect(errors).toEqual([]);
});
