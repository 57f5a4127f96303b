import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { readSafetensors } from '../src/engine/io/safetensors';
import { expectModelShown, exportedFiles, SLOW_TEST_MS, VIEWPORTS } from './helpers';

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
  await expect(slider).toHaveValue('0.5');

  // Exported while the page still measures the pruned model (minutes on SwiftShader): the export
  // prunes for itself and does not wait for the metric.
  const pruned = page.getByRole('region', { name: 'Pruned model' });
  await expect(pruned).toHaveAttribute('aria-busy', 'true');
  const byName = await exportedFiles(page, 4);
  // Nothing outlives the test: the measurement still running stops here.
  await pruned.getByRole('button', { name: 'Cancel' }).click();
  await expect(pruned).toHaveAttribute('aria-busy', 'false');
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
  expect(recipe.metrics).toBeNull();
  expect(recipe.notes).toContainEqual(expect.stringMatching(/^Exported before the page had measured/));
  expect(JSON.parse(byName.get('config.json')!.toString('utf8')).architectures).toEqual(['ViTForImageClassification']);
});
