// A checkpoint that brings no evaluation data: a language model is offered the shipped public-domain
// text and is measured on it; an image model is told it needs images.
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import {
  collectPageErrors,
  EVAL_TIMEOUT_MS,
  expectModelShown,
  metricPanel,
  screenshots,
  SLOW_TEST_MS,
} from './helpers';

const model = (id: string, files: string[]) => files.map((f) => join('public/models', id, f));

test('a language model without eval data is measured on the shipped text', async ({ page }) => {
  test.setTimeout(SLOW_TEST_MS);
  const errors = collectPageErrors(page);
  // WASM: one measurement of 16 KB of text, which SwiftShader's WebGPU takes minutes over.
  await page.goto('/?backend=wasm');
  await expectModelShown(page, 'ViT · Fashion-MNIST');

  await page
    .getByLabel('Choose files…')
    .setInputFiles(model('gpt-bytes', ['config.json', 'model.safetensors', 'tokenizer.json']));
  await expect(page.getByRole('region', { name: 'Status' })).toContainText('your files', { timeout: 60_000 });
  const metric = metricPanel(page);
  await expect(metric).toContainText('No eval.safetensors came with this model');
  await screenshots(page, 'own-data-offer');

  await metric.getByRole('button', { name: 'Use the shipped text' }).click();
  await expect(metric).toContainText(/Bits per byte\s*\d/, { timeout: EVAL_TIMEOUT_MS });
  await expect(metric).not.toContainText('No eval.safetensors');
  await screenshots(page, 'own-data-measured');
  expect(errors).toEqual([]);
});

test('an image model without eval data asks for a folder of images', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto('/?model=gpt-bytes&backend=wasm');
  await expectModelShown(page, 'GPT-2 · bytes of the King James Bible');
  await page.getByLabel('Choose files…').setInputFiles(model('vit-fashion', ['config.json', 'model.safetensors']));
  await expect(page.getByRole('region', { name: 'Status' })).toContainText('your files', { timeout: 60_000 });
  const metric = metricPanel(page);
  await expect(metric).toContainText('An image model needs images to be measured on');
  await expect(metric.getByText('Choose a folder…')).toBeVisible();
  expect(errors).toEqual([]);
});
