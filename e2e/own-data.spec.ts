// A checkpoint that brings no evaluation data: a language model is offered the shipped public-domain
// text and is measured on it, calibrates on it by default, and is measured again on the shorter
// windows of text a person types; an image model is told it needs images.
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import {
  collectPageErrors,
  EVAL_TIMEOUT_MS,
  expectModelShown,
  metricPanel,
  numberAfter,
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
  // The overview names where the model came from once it is open (the status only while opening).
  await expect(page.getByText(/^your files: config\.json/)).toBeVisible({ timeout: 60_000 });
  const metric = metricPanel(page);
  await expect(metric).toContainText('No eval.safetensors came with this model');
  await screenshots(page, 'own-data-offer');

  await metric.getByRole('button', { name: 'Use the shipped text' }).click();
  await expect(metric).toContainText(/Bits per byte\s*\d/, { timeout: EVAL_TIMEOUT_MS });
  await expect(metric).not.toContainText('No eval.safetensors');
  await expect(metric).toContainText('windows of 128 tokens');
  await screenshots(page, 'own-data-measured');
  const full = numberAfter((await metric.textContent()) ?? '', 'Bits per byte');

  // No calib.safetensors came with the files: the default calibration is the text just given.
  const source = page.getByLabel('Calibration source');
  await expect(source).toHaveValue('held-out');
  await expect(source.getByRole('option', { name: 'training data' })).toBeDisabled();

  // Shorter windows: the model is measured again, with less context, so a higher loss.
  const windowField = page.getByLabel('Window (tokens)');
  await expect(windowField).toHaveValue('128');
  await windowField.fill('32');
  await windowField.press('Enter');
  await expect(metric).toContainText('windows of 32 tokens');
  await expect(metric).toContainText(/Bits per byte\s*\d/, { timeout: EVAL_TIMEOUT_MS });
  expect(numberAfter((await metric.textContent()) ?? '', 'Bits per byte')).toBeGreaterThan(full);
  expect(errors).toEqual([]);
});

test('an image model without eval data asks for a folder of images', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto('/?model=gpt-bytes&backend=wasm');
  await expectModelShown(page, 'GPT-2 · bytes of the King James Bible');
  await page.getByLabel('Choose files…').setInputFiles(model('vit-fashion', ['config.json', 'model.safetensors']));
  // The overview names where the model came from once it is open (the status only while opening).
  await expect(page.getByText(/^your files: config\.json/)).toBeVisible({ timeout: 60_000 });
  const metric = metricPanel(page);
  await expect(metric).toContainText('An image model needs images to be measured on');
  await expect(metric.getByText('Choose a folder…')).toBeVisible();
  expect(errors).toEqual([]);
});
