// A checkpoint too big for the tab's memory whole (the budget set low in the address, so that the
// shipped language model stands in for a large one) is read from its files a block at a time: the
// page says so and hides the views that need every weight, measures it, rules out the choices that
// rank across the model, prunes it from the slider and exports it through the browser's storage.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { readSafetensors } from '../src/engine/io/safetensors';
import {
  collectPageErrors,
  EVAL_TIMEOUT_MS,
  expectModelShown,
  exportedFiles,
  metricPanel,
  numberAfter,
  screenshots,
  SLOW_TEST_MS,
} from './helpers';

const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'eval.safetensors'];

test('a model too big for the tab is measured, pruned and exported a block at a time', async ({ page }) => {
  test.setTimeout(SLOW_TEST_MS);
  const errors = collectPageErrors(page);
  // gpt-bytes whole: about 226 MB by the page's estimate; a block at a time: about 215 MB.
  await page.goto('/?backend=wasm&memory-budget=220MB');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  await page.getByLabel('Choose files…').setInputFiles(FILES.map((f) => join('public/models/gpt-bytes', f)));

  const notice = page.getByRole('region', { name: 'Read a block at a time' });
  await expect(notice).toBeVisible({ timeout: 60_000 });
  await expect(notice).toContainText('over this tab’s 220 MB');
  await expect(page.getByRole('region', { name: 'Model map' })).toHaveCount(0);
  const metric = metricPanel(page);
  await expect(metric).toContainText(/Bits per byte\s*\d/, { timeout: EVAL_TIMEOUT_MS });
  // The same model as the shipped one, measured a block at a time: its baseline.
  expect(numberAfter((await metric.textContent()) ?? '', 'Bits per byte')).toBeCloseTo(1.712, 2);
  await screenshots(page, 'streamed-model');

  const method = page.getByLabel('Method');
  await expect(method.getByRole('option', { name: 'Taylor', exact: true })).toBeDisabled();
  await expect(page.getByLabel('Granularity').getByRole('option', { name: 'Attention heads' })).toBeDisabled();
  // Few calibration windows: what this budget holds beside the evaluation text.
  const size = page.getByLabel('Calibration size');
  await size.fill('4');
  await size.press('Enter');

  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  await slider.focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.5');
  const pruned = page.getByTestId('pruned-metric');
  await expect(pruned).toHaveText(/^\d+\.\d+$/, { timeout: EVAL_TIMEOUT_MS });
  expect(Number(await pruned.textContent())).toBeGreaterThan(1.712);

  const byName = await exportedFiles(page, 6);
  expect([...byName.keys()].sort()).toEqual([
    'config.json',
    'masks.safetensors',
    'model.safetensors',
    'recipe.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  const model = readSafetensors(new Uint8Array(byName.get('model.safetensors')!));
  const w = model.tensors.get('transformer.h.0.mlp.c_fc.weight')!;
  const zeros = Array.from(w.data).filter((v) => v === 0).length / w.data.length;
  expect(zeros).toBeCloseTo(0.5, 2);
  const recipe = JSON.parse(byName.get('recipe.json')!.toString('utf8'));
  expect(recipe.notes).toContain('pruned a block at a time within the memory budget');
  expect(byName.get('tokenizer.json')!.equals(readFileSync('public/models/gpt-bytes/tokenizer.json'))).toBe(true);
  expect(errors).toEqual([]);
});
