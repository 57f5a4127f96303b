// Recovery after pruning, as a teacher shows it: prune the default model, watch the metric fall,
// press Recover with a few steps, watch the loss stream and the metric come back, see the arrow
// from the pruned point to the recovered one in the chart, cancel a longer run, which keeps the best
// weights so far, and export a LoRA recovery with its PEFT adapter. On WASM, as a user on this
// machine is told to: each measurement is seconds.
import { readFileSync } from 'node:fs';
import { type Download, expect, test } from '@playwright/test';
import { collectPageErrors, EVAL_TIMEOUT_MS, expectModelShown, screenshots, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

test('prune, recover (loss streamed, metric back, arrow in the chart), cancel a longer run, export a LoRA recovery', async ({
  page,
  browser,
}) => {
  test.setTimeout(150_000);
  const errors = collectPageErrors(page);
  await page.goto('/?backend=wasm');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  const recovery = page.getByRole('region', { name: 'Recovery', exact: true });
  const chart = page.getByRole('region', { name: 'Trade-off' });
  await expect(recovery.getByRole('button', { name: 'Recover' })).toBeDisabled();

  // Prune hard enough that the metric falls.
  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  await slider.focus();
  for (let i = 0; i < 14; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.7');
  const pruned = page.getByRole('region', { name: 'Pruned model' });
  await expect(pruned.getByTestId('pruned-metric')).toHaveText(/^\d+(\.\d+)?%$/, { timeout: EVAL_TIMEOUT_MS });

  // A few steps, the defaults otherwise (masked fine-tuning, lr 1e-4, batch 8).
  await expect(recovery.getByLabel('Recovery mode')).toHaveValue('finetune');
  await recovery.getByLabel('Steps', { exact: true }).fill('8');
  await expect(recovery.getByLabel('Warm-up steps')).toHaveValue('1');
  await recovery.getByLabel('Learning rate').fill('0.001');
  await recovery.getByRole('button', { name: 'Recover' }).click();
  const result = recovery.getByTestId('recovery-result');
  await expect(result).toContainText(/pruned → \d+(\.\d+)?% recovered/, { timeout: 60_000 });
  // 8 updates of 8 over the recipe's 128 calibration images: half of them.
  await expect(result).toContainText('128 train images (seed 0), 0.50 passes over the data)');
  await expect(result.getByTestId('recovery-times')).toContainText(
    /^Time in the worker: [\d.]+ m?s per update, [\d.]+ m?s in all/,
  );
  // The loss streamed step by step, and the metric was measured before, during and after.
  await expect(recovery.getByTestId('recovery-curve')).toHaveAttribute(
    'aria-label',
    /Training loss \d+\.\d+ at step 8; accuracy measured [2-9] time/i,
  );
  // The chart: the recovered point, with an arrow from its pruned point.
  await expect(chart.getByTestId('recovered-point')).toHaveCount(1);
  await expect(chart.getByTestId('recovery-arrow')).toHaveCount(1);
  await expect(chart.getByRole('img', { name: /1 recovered point\(s\) with arrows/ })).toBeVisible();
  // The link now holds the recovery (format v3).
  await expect.poll(() => page.evaluate(() => window.location.hash)).toMatch(/^#v3\./);
  await screenshots(page, 'recover');

  // A longer run, cancelled once the loss streams: the best weights measured so far are kept.
  await recovery.getByLabel('Steps', { exact: true }).fill('2000');
  await recovery.getByRole('button', { name: 'Recover' }).click();
  await expect(recovery.getByRole('progressbar', { name: 'Recovery progress' })).toBeVisible();
  await expect(recovery.getByText(/Training: step \d+ of 2000/)).toBeVisible({ timeout: 60_000 });
  await recovery.getByRole('button', { name: 'Cancel' }).click();
  await expect(recovery.getByText(/Cancelled at step \d+; kept the weights of step \d+\./)).toBeVisible({
    timeout: 60_000,
  });
  await expect(pruned.getByTestId('pruned-metric')).toHaveText(/^\d+(\.\d+)?%$/);

  // LoRA, then Export: the recovered checkpoint and PEFT's adapter files, each its own download.
  await recovery.getByLabel('Recovery mode').selectOption('lora');
  await expect(recovery.getByLabel('Learning rate')).toHaveValue('0.001');
  await recovery.getByLabel('Steps', { exact: true }).fill('4');
  await recovery.getByRole('button', { name: 'Recover' }).click();
  await expect(result).toContainText(/recovered \(LoRA/, { timeout: 60_000 });
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export recovered checkpoint' }).click();
  await expect.poll(() => downloads.length, { timeout: 60_000 }).toBe(6);
  const byName = new Map<string, Buffer>();
  for (const d of downloads) byName.set(d.suggestedFilename(), readFileSync((await d.path())!));
  expect([...byName.keys()].sort()).toEqual([
    'adapter_config.json',
    'adapter_model.safetensors',
    'config.json',
    'masks.safetensors',
    'model.safetensors',
    'recipe.json',
  ]);
  const recipe = JSON.parse(byName.get('recipe.json')!.toString('utf8'));
  expect(recipe.recovery).toMatchObject({ recovery: { mode: 'lora', steps: 4, rank: 8 }, stepsDone: 4 });
  expect(JSON.parse(byName.get('adapter_config.json')!.toString('utf8'))).toMatchObject({ peft_type: 'LORA', r: 8 });
  expect(errors).toEqual([]);

  // The link in a fresh browser: it prunes, then runs the same recovery.
  await expect.poll(() => page.evaluate(() => window.location.hash)).toMatch(/^#v3\./);
  const link = page.url();
  await page.close();
  const fresh = await (await browser.newContext({ viewport: VIEWPORTS[0] })).newPage();
  const freshErrors = collectPageErrors(fresh);
  await fresh.goto(link);
  const reopened = fresh.getByRole('region', { name: 'Recovery', exact: true });
  await expect(reopened.getByLabel('Recovery mode')).toHaveValue('lora');
  await expect(reopened.getByTestId('recovery-result')).toContainText(/recovered \(LoRA/, { timeout: 60_000 });
  await expect(fresh.getByRole('region', { name: 'Trade-off' }).getByTestId('recovery-arrow')).toHaveCount(1);
  expect(freshErrors).toEqual([]);
  await fresh.context().close();
});
