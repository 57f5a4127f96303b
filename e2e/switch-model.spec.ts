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

const GPT = 'GPT-2 · bytes of the King James Bible';

test('picking gpt-bytes shows its structure and its bits per byte', async ({ page }) => {
  test.setTimeout(SLOW_TEST_MS);
  const errors = collectPageErrors(page);
  await page.goto('/');
  await expectModelShown(page, 'ViT · Fashion-MNIST');

  const picker = page.getByRole('combobox', { name: 'Model' });
  await expect(picker.getByRole('option')).toHaveText(['ViT · Fashion-MNIST', GPT]);
  await picker.selectOption({ label: GPT });

  await expectModelShown(page, GPT);
  await expect(picker).toHaveValue('gpt-bytes');
  await expect(page).toHaveURL(/[?&]model=gpt-bytes/);
  await expect(page.getByText('GPT2LMHeadModel')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'ViT · Fashion-MNIST' })).toHaveCount(0);

  // Its structure: token and position embeddings, 4 blocks of 4 heads + FFN 512, the LM head.
  const map = page.getByRole('region', { name: 'Model map' });
  await expect(map.getByRole('group', { name: 'Embeddings' })).toContainText('Tokens');
  await expect(map.getByRole('group', { name: 'LM head' })).toBeVisible();
  await expect(blocks(page)).toHaveCount(4);
  for (let i = 0; i < 4; i++) {
    await expect(blocks(page).nth(i).getByRole('listitem')).toHaveCount(4);
    await expect(blocks(page).nth(i)).toContainText('512');
  }
  await expect(page.getByRole('region', { name: 'Size and compute' })).toContainText(/FLOPs\s*\d+(\.\d+)? [kMG]FLOPs/);
  await expect(page.getByText('128 (context window)')).toBeVisible();

  // Its metric: bits per byte, perplexity, next-byte accuracy.
  const metric = metricPanel(page);
  await expect(metric).toContainText(/Bits per byte\s*\d/, { timeout: EVAL_TIMEOUT_MS });
  const text = (await metric.textContent()) ?? '';
  const bpb = numberAfter(text, 'Bits per byte');
  expect(bpb).toBeGreaterThan(0);
  expect(bpb).toBeLessThan(16);
  expect(numberAfter(text, 'Perplexity')).toBeGreaterThanOrEqual(1);
  const acc = numberAfter(text, 'Next-byte accuracy');
  expect(acc).toBeGreaterThanOrEqual(0);
  expect(acc).toBeLessThanOrEqual(100);

  await screenshots(page, 'switch-model');
  expect(errors).toEqual([]);
});

test('?model=gpt-bytes opens gpt-bytes directly', async ({ page }) => {
  await page.goto('/?model=gpt-bytes');
  await expectModelShown(page, GPT);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('gpt-bytes');
  await expect(blocks(page)).toHaveCount(4);
  await expect(metricPanel(page).getByRole('button', { name: 'Cancel' })).toBeVisible();
});
