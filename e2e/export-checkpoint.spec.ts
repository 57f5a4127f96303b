import { readFileSync } from 'node:fs';
import { expect, test, type Download } from '@playwright/test';
import { readSafetensors } from '../src/engine/io/safetensors';
import { EVAL_TIMEOUT_MS, expectModelShown, SLOW_TEST_MS, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

test('Export downloads the pruned checkpoint: model.safetensors with the expected tensors, masks, recipe', async ({
  page,
}) => {
  test.setTimeout(SLOW_TEST_MS);
  await page.goto('/');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  await page.getByRole('region', { name: 'Baseline quality' }).getByRole('button', { name: 'Cancel' }).click();
  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  await slider.focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('pruned-metric')).toHaveText(/^\d+(\.\d+)?%$/, { timeout: EVAL_TIMEOUT_MS });

  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export pruned checkpoint' }).click();
  await expect.poll(() => downloads.length, { timeout: EVAL_TIMEOUT_MS }).toBe(4);
  const byName = new Map<string, Buffer>();
  for (const d of downloads) byName.set(d.suggestedFilename(), readFileSync((await d.path())!));
  expect([...byName.keys()].sort()).toEqual(['config.json', 'masks.safetensors', 'model.safetensors', 'recipe.json']);

  const source = readSafetensors(new Uint8Array(readFileSync('public/models/vit-fashion/model.safetensors')));
  const model = readSafetensors(new Uint8Array(byName.get('model.safetensors')!));
  expect([...model.tensors.keys()].sort()).toEqual([...source.tensors.keys()].sort());
  const q = model.tensors.get('vit.encoder.layer.0.attention.attention.query.weight')!;
  const zeros = Array.from(q.data).filter((v) => v === 0).length / q.data.length;
  expect(zeros).toBeGreaterThan(0.45);
  expect(zeros).toBeLessThan(0.55);
  const masks = readSafetensors(new Uint8Array(byName.get('masks.safetensors')!));
  expect(masks.tensors.has('vit.encoder.layer.0.attention.attention.query.weight')).toBe(true);
  const recipe = JSON.parse(byName.get('recipe.json')!.toString('utf8'));
  expect(recipe.format).toBe('pruning-workbench/recipe');
  expect(recipe.recipe.method).toBe('magnitude');
  expect(recipe.recipe.sparsity).toBe(0.5);
  expect(JSON.parse(byName.get('config.json')!.toString('utf8')).architectures).toEqual(['ViTForImageClassification']);
});
