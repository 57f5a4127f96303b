import { expect, test } from '@playwright/test';
import { collectPageErrors, EVAL_TIMEOUT_MS, expectModelShown, screenshots, SLOW_TEST_MS, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

// The sensitivity curves take many minutes on SwiftShader's WebGPU: there the test cancels them; it
// then reopens the same link on WASM (?backend=wasm), which measures them in seconds.
test("a block's detail: the mask's threshold on the score histogram, the mask, another linear, sensitivity, Escape", async ({
  page,
}) => {
  test.setTimeout(SLOW_TEST_MS);
  const errors = collectPageErrors(page);
  await page.goto('/');
  await expectModelShown(page, 'ViT · Fashion-MNIST');

  // Prune 30% by magnitude with the slider (keyboard).
  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  await slider.focus();
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.3');

  // Open block 1 from the model map.
  await page.getByRole('button', { name: 'Block 1 details' }).click();
  const detail = page.getByRole('region', { name: /^Block 1 detail/ });
  await expect(detail.getByRole('heading', { name: 'Block 1 detail · Query' })).toBeFocused();
  const scores = detail.getByRole('img', { name: /^Histogram of the scores of the Query of block 1/ });
  await expect(scores).toBeVisible({ timeout: EVAL_TIMEOUT_MS });
  // 64×64 weights, 30% removed by magnitude within the layer: round(0.7 · 4096) = 2,867 kept.
  await expect(detail.getByText('2,867 kept · 1,229 removed (30.0%)')).toBeVisible();
  await expect(detail.getByText(/^Kept: score ≥ [\d.e-]+; largest removed [\d.e-]+\.$/)).toBeVisible();
  await expect(scores.getByText(/^threshold [\d.e-]+$/)).toBeVisible();
  await expect(detail.getByRole('img', { name: /^Mask of the Query of block 1: 2,867 kept/ })).toBeVisible();
  await expect(detail.getByText('Block 1 pruned').locator('..')).toContainText('30.0%');

  // Another linear of the block.
  await detail.getByRole('group', { name: 'Linear layer' }).getByRole('button', { name: 'FFN in' }).click();
  await expect(detail.getByRole('heading', { name: 'Block 1 detail · FFN in' })).toBeVisible();
  await expect(
    detail.getByRole('img', {
      name: /^Mask of the FFN in of block 1: .* rows are its 256 outputs, columns its 64 inputs/,
    }),
  ).toBeVisible({ timeout: EVAL_TIMEOUT_MS });
  await expect(detail.getByText('11,469 kept · 4,915 removed (30.0%)')).toBeVisible();

  // Sensitivity: started, then cancelled.
  const sensitivity = detail.getByRole('region', { name: 'Sensitivity' });
  await sensitivity.getByRole('button', { name: 'Compute sensitivity' }).click();
  await expect(sensitivity.getByRole('progressbar', { name: 'Sensitivity progress' })).toBeVisible();
  await sensitivity.getByRole('button', { name: 'Cancel' }).click();
  await expect(sensitivity.getByText(/^Cancelled\./)).toBeVisible({ timeout: EVAL_TIMEOUT_MS });
  await expect(sensitivity.getByRole('button', { name: 'Compute sensitivity' })).toBeVisible();

  // The open block is in the link: the same link on WASM shows it again, and computes the curves.
  const url = new URL(page.url());
  url.searchParams.set('backend', 'wasm');
  await page.goto(url.href);
  const reopened = page.getByRole('region', { name: /^Block 1 detail/ });
  await expect(reopened.getByRole('img', { name: /^Mask of the Query of block 1: 2,867 kept/ })).toBeVisible({
    timeout: EVAL_TIMEOUT_MS,
  });
  const again = reopened.getByRole('region', { name: 'Sensitivity' });
  await again.getByRole('button', { name: 'Compute sensitivity' }).click();
  await expect(
    again.getByRole('img', {
      name: /^Calibration loss of block 1 pruned alone: [\d.]+ dense, [\d.]+ at 90%; now 30\.0% of its weights removed$/,
    }),
  ).toBeVisible({ timeout: EVAL_TIMEOUT_MS });
  await expect(
    again.getByText(/^Each block pruned alone by magnitude at 0–90%, loss on 128 train images/),
  ).toBeVisible();
  await screenshots(page, 'layer-detail');

  // Escape closes it, and the link forgets the block.
  await page
    .getByRole('region', { name: /^Block 1 detail/ })
    .getByRole('button', { name: 'FFN out' })
    .click();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('region', { name: /^Block 1 detail/ })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Block 1 details' })).toHaveAttribute('aria-pressed', 'false');
  expect(errors).toEqual([]);
});
