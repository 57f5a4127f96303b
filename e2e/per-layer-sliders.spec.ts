// Per-layer sliders and the model map on WASM, and the controls ruling out what the catalogue refuses.
import { expect, test, type Page } from '@playwright/test';
import {
  blocks,
  collectPageErrors,
  EVAL_TIMEOUT_MS,
  expectModelShown,
  screenshots,
  SLOW_TEST_MS,
  VIEWPORTS,
} from './helpers';

test.use({ viewport: VIEWPORTS[0] });

/** The "N% pruned" a block row of the model map shows. */
async function rowPruned(page: Page, block: number): Promise<number> {
  const text = await blocks(page)
    .nth(block)
    .getByText(/% pruned$/)
    .textContent();
  return Number(/([\d.]+)% pruned/.exec(text ?? '')![1]);
}

test('per-layer sliders: unlock, prune block 1 alone by keyboard, see it on the map coloured by pruned share and importance, restore from the link; a global scope rules out OWL', async ({
  page,
  browser,
  context,
}) => {
  test.setTimeout(SLOW_TEST_MS);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const errors = collectPageErrors(page);
  // WASM: on SwiftShader's WebGPU one measurement takes minutes, and this flow measures a configuration
  // and scores importance (the map's numbers do not depend on the backend). The link opens on the default one.
  await page.goto('/?backend=wasm');
  await expectModelShown(page, 'ViT · Fashion-MNIST');

  const perLayer = page.getByRole('group', { name: 'Per-layer sparsity' });
  const lock = perLayer.getByRole('checkbox', { name: 'Lock to global' });
  const first = perLayer.getByRole('slider', { name: 'Block 1 sparsity' });
  await expect(lock).toBeChecked();
  await expect(first).toBeDisabled();
  await expect(perLayer.getByRole('slider')).toHaveCount(4);

  // Unlocking starts from the global value (0%); block 1 then moves alone, by keyboard.
  await lock.press('Space');
  await expect(lock).not.toBeChecked();
  await expect(first).toBeEnabled();
  await expect(page.getByRole('slider', { name: 'Global sparsity' })).toBeDisabled();
  await first.focus();
  for (let i = 0; i < 8; i++) await page.keyboard.press('PageUp');
  const value = Number(await first.inputValue());
  expect(value).toBeGreaterThanOrEqual(0.5);
  await expect(perLayer.getByRole('slider', { name: 'Block 2 sparsity' })).toHaveValue('0');

  const metric = page.getByTestId('pruned-metric');
  await expect(metric).toHaveText(/^\d+(\.\d+)?%$/, { timeout: EVAL_TIMEOUT_MS });

  // The map, coloured by pruned share: block 1 is pruned as set, the others not at all.
  const map = page.getByRole('region', { name: 'Model map' });
  await map.getByRole('radio', { name: 'Pruned share' }).check();
  await expect(
    blocks(page)
      .nth(0)
      .getByText(/% pruned$/),
  ).toBeVisible();
  expect(await rowPruned(page, 0)).toBeCloseTo(value * 100, 0);
  for (const b of [1, 2, 3]) expect(await rowPruned(page, b)).toBe(0);
  await expect(map.getByRole('figure', { name: /share of each head’s, FFN’s weights/ })).toBeVisible();
  const head = blocks(page)
    .nth(0)
    .getByRole('list', { name: 'Attention heads of block 1' })
    .getByRole('listitem')
    .first();
  await expect(head).toContainText(/Block 1, attention head 1: .*\d+\.\d% pruned\./);
  await screenshots(page, 'model-map-pruned-share');

  // Coloured by importance: every head and FFN gets its score, the legend says what it is.
  await map.getByRole('radio', { name: 'Importance' }).check();
  await expect(head).toContainText(/Importance: head output norm [\d.]+, \d+% of the largest head's/, {
    timeout: EVAL_TIMEOUT_MS,
  });
  await expect(blocks(page).nth(3)).toContainText(/Importance: sum of neuron scores/);
  await expect(map.getByRole('figure', { name: /importance on calibration data/ })).toBeVisible();
  await screenshots(page, 'model-map-importance');
  await map.getByRole('radio', { name: 'FLOPs share' }).check();
  await expect(map.getByRole('figure', { name: /share of the model's FLOPs/ })).toBeVisible();

  // Each block row opens its detail; the choice is a toggle.
  const details = page.getByRole('button', { name: 'Block 2 details' });
  await details.focus();
  await page.keyboard.press('Enter');
  await expect(details).toHaveAttribute('aria-pressed', 'true');

  // The link holds every slider: a fresh browser opens it with block 1's value, unlocked.
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  const fresh = await browser.newContext({ viewport: VIEWPORTS[0] });
  const other = await fresh.newPage();
  await other.goto(link);
  await expectModelShown(other, 'ViT · Fashion-MNIST');
  const restored = other.getByRole('group', { name: 'Per-layer sparsity' });
  await expect(restored.getByRole('checkbox', { name: 'Lock to global' })).not.toBeChecked();
  await expect(restored.getByRole('slider', { name: 'Block 1 sparsity' })).toHaveValue(String(value));
  await expect(restored.getByRole('slider', { name: 'Block 4 sparsity' })).toHaveValue('0');
  await fresh.close();

  // The choices follow the catalogue. Locked again, OWL can split the sparsity, with its M and λ;
  // a global scope (one threshold over every block) then rules it out: the allocation goes back to
  // uniform, and the option and a note under the control say why.
  await lock.check();
  const allocation = page.getByLabel('Allocation');
  await allocation.selectOption('owl');
  await expect(page.getByLabel('OWL M')).toHaveValue('5');
  await expect(page.getByLabel('OWL λ')).toHaveValue('0.08');
  await page.getByLabel('Scope').selectOption('global');
  await expect(allocation).toHaveValue('uniform');
  await expect(page.getByLabel('OWL M')).toHaveCount(0);
  const why =
    /^A “global” scope sets one threshold for all blocks; the “OWL” allocation’s per-block split does not apply\.$/;
  const owl = allocation.locator('option[value="owl"]');
  await expect(owl).toBeDisabled();
  await expect(owl).toHaveAttribute('title', /“global” scope sets one threshold for all blocks; the “OWL” allocation/);
  await expect(page.getByText(why)).toBeVisible();
  await expect(perLayer).toContainText('per-block sparsity does not apply');
  await screenshots(page, 'controls-global-scope');
  expect(errors).toEqual([]);
});
