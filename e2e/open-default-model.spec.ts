import { expect, test } from '@playwright/test';
import {
  blocks,
  collectPageErrors,
  EVAL_TIMEOUT_MS,
  expectModelShown,
  metricPanel,
  numberAfter,
  screenshots,
  SLOW_TEST_MS,
  VIEWPORTS,
} from './helpers';

test.use({ viewport: VIEWPORTS[0] });

test('the page opens vit-fashion: map, costs, baseline accuracy on webgpu', async ({ page }) => {
  test.setTimeout(SLOW_TEST_MS);
  const errors = collectPageErrors(page);
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Pruning Workbench' })).toBeVisible();

  // The default model loads and the picker shows it.
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('vit-fashion');
  await expect(page.getByText('ViTForImageClassification')).toBeVisible();

  // Model map: embeddings, 4 blocks with 4 attention heads and an FFN each, the classifier.
  await expect(blocks(page)).toHaveCount(4);
  for (let i = 0; i < 4; i++) {
    const block = blocks(page).nth(i);
    await expect(block).toContainText(`Block ${i + 1}`);
    await expect(block.getByRole('listitem')).toHaveCount(4);
    for (let h = 1; h <= 4; h++) await expect(block.getByRole('listitem').nth(h - 1)).toContainText(`H${h}`);
    await expect(block).toContainText('FFN');
    await expect(block).toContainText('256');
  }
  const map = page.getByRole('region', { name: 'Model map' });
  await expect(map.getByRole('group', { name: 'Embeddings' })).toBeVisible();
  await expect(map.getByRole('group', { name: 'Classifier' })).toBeVisible();
  await expect(map.getByText('Share of FLOPs')).toBeVisible();

  // Parameters and FLOPs, totals and per block.
  const cost = page.getByRole('region', { name: 'Size and compute' });
  await expect(cost).toContainText(/Parameters\s*\d+(\.\d+)? [kM]/);
  await expect(cost).toContainText(/FLOPs\s*\d+(\.\d+)? [kMG]FLOPs/);
  await expect(cost.getByRole('row', { name: /^Block 1 / })).toBeVisible();
  await expect(cost.getByRole('row', { name: /^Block 4 / })).toBeVisible();

  // The baseline accuracy, measured in the worker.
  const metric = metricPanel(page);
  await expect(
    metric.getByRole('progressbar', { name: 'Measuring progress' }).or(metric.getByText('Accuracy', { exact: true })),
  ).toBeVisible();
  await expect(metric).toContainText(/Accuracy\s*\d+(\.\d+)?%/, { timeout: EVAL_TIMEOUT_MS });
  const accuracy = numberAfter((await metric.textContent()) ?? '', 'Accuracy');
  expect(accuracy).toBeGreaterThanOrEqual(0);
  expect(accuracy).toBeLessThanOrEqual(100);
  await expect(metric).toContainText('1,000 eval images');

  // The backend in use.
  await expect(page.getByRole('region', { name: 'Status' })).toContainText(/Backend\s*webgpu/);
  await expect(page.getByRole('alert')).toHaveCount(0);

  await screenshots(page, 'open-default-model');
  expect(errors).toEqual([]);
});
