import { expect, test, type Locator, type Page } from '@playwright/test';
import { collectPageErrors, EVAL_TIMEOUT_MS, expectModelShown, screenshots, SLOW_TEST_MS, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

const panel = (page: Page) => page.getByRole('region', { name: 'Inspect an input' });
/** The dense model's class list (the first column). */
const denseClasses = (p: Locator) =>
  p.getByRole('region', { name: 'Predictions' }).getByRole('list', { name: 'Most likely classes' }).first();
const denseOverlay = (p: Locator) =>
  p
    .getByRole('region', { name: 'Saliency' })
    .getByRole('img', { name: /^Saliency for/ })
    .first();

test('inspecting an image: pick a test image, draw one, prune, and compare the attention maps', async ({ page }) => {
  test.setTimeout(SLOW_TEST_MS);
  const errors = collectPageErrors(page);
  // WASM: the flow measures the model twice (baseline and pruned), which SwiftShader's WebGPU takes
  // minutes for; the views are the same computation on every backend.
  await page.goto('/?backend=wasm');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  const p = panel(page);
  await expect(p.getByRole('button', { name: /^Test image 1:/ })).toHaveAttribute('aria-pressed', 'true');
  await expect(denseClasses(p)).toBeVisible({ timeout: EVAL_TIMEOUT_MS });
  await expect(p.getByText('Prune the model (the sparsity slider)').first()).toBeVisible();

  // Another test image: the prediction and the saliency overlay follow it.
  const classesBefore = await denseClasses(p).textContent();
  const overlayBefore = await denseOverlay(p).getAttribute('aria-label');
  await p.getByRole('button', { name: /^Test image 2:/ }).click();
  await expect(p.getByRole('button', { name: /^Test image 2:/ })).toHaveAttribute('aria-pressed', 'true');
  await expect(denseClasses(p)).not.toHaveText(classesBefore!, { timeout: EVAL_TIMEOUT_MS });
  await expect(denseOverlay(p)).not.toHaveAttribute('aria-label', overlayBefore!);
  await expect(page).toHaveURL(/#v1\./);

  // A drawing: a stroke on the pad, and the prediction is of the drawing.
  const classesOfImage = await denseClasses(p).textContent();
  const pad = p.getByRole('img', { name: /^Drawing pad/ });
  const box = (await pad.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
  await page.mouse.down();
  for (const [x, y] of [
    [0.7, 0.2],
    [0.7, 0.8],
    [0.3, 0.8],
    [0.3, 0.2],
  ])
    await page.mouse.move(box.x + box.width * x, box.y + box.height * y, { steps: 8 });
  await page.mouse.up();
  await expect(p.getByText('Your drawing (inspected)')).toBeVisible();
  await expect(denseClasses(p)).not.toHaveText(classesOfImage!, { timeout: EVAL_TIMEOUT_MS });

  // Pruning: once the configuration is measured, the after-pruning column appears beside the dense one.
  await p.getByRole('button', { name: /^Test image 1:/ }).click();
  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  await slider.focus();
  for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.6');
  await expect(p.getByText(/^After pruning: magnitude · 60% of the block weights pruned/)).toBeVisible({
    timeout: EVAL_TIMEOUT_MS,
  });
  await expect(
    p.getByRole('region', { name: 'Predictions' }).getByRole('list', { name: 'Most likely classes' }),
  ).toHaveCount(2);

  // The attention grids: 4 layers × 4 heads each, before and after; a map's values on demand.
  const attention = p.getByRole('region', { name: 'Attention' });
  await expect(attention.getByRole('figure', { name: /^Attention maps/ })).toHaveCount(2);
  await expect(
    attention
      .getByRole('figure', { name: 'Attention maps, before pruning' })
      .getByRole('button', { name: /^Layer \d, head \d/ }),
  ).toHaveCount(16);
  await expect(
    attention
      .getByRole('figure', { name: 'Attention maps, after pruning' })
      .getByRole('button', { name: /^Layer \d, head \d/ }),
  ).toHaveCount(16);
  await attention
    .getByRole('button', { name: /^Layer 1, head 1: strongest attention/ })
    .first()
    .click();
  await expect(
    attention.getByRole('table', { name: /Strongest attention of layer 1, head 1/ }).getByRole('row'),
  ).toHaveCount(11);

  // The saliency method toggle.
  const saliency = p.getByRole('region', { name: 'Saliency' });
  await saliency.getByRole('radio', { name: 'Attention rollout' }).click();
  await expect(saliency.getByRole('radio', { name: 'Attention rollout' })).toHaveAttribute('aria-checked', 'true');
  await expect(saliency.getByRole('img', { name: /^Saliency for/ })).toHaveCount(2);

  // Heads removed: the after-pruning grid shows them as removed, as many as the configuration says.
  await page.getByLabel('Granularity').selectOption('heads');
  const comparing = p.getByText(/^After pruning: \d+ of 16 heads removed/);
  await expect(comparing).toBeVisible({ timeout: EVAL_TIMEOUT_MS });
  const removed = Number(/(\d+) of 16/.exec((await comparing.textContent())!)![1]);
  expect(removed).toBeGreaterThan(0);
  const afterGrid = attention.getByRole('figure', { name: 'Attention maps, after pruning' });
  await expect(afterGrid.getByRole('button', { name: /\(removed\)/ })).toHaveCount(removed);
  await expect(afterGrid.getByText('removed', { exact: true })).toHaveCount(removed);

  await p.scrollIntoViewIfNeeded();
  await screenshots(page, 'inspect-input');
  expect(errors).toEqual([]);
});

test('inspecting text: the next byte, a sampled continuation and byte saliency follow what is typed', async ({
  page,
}) => {
  test.setTimeout(SLOW_TEST_MS);
  const errors = collectPageErrors(page);
  await page.goto('/?model=gpt-bytes&backend=wasm');
  await expectModelShown(page, 'GPT-2 · bytes of the King James Bible');
  const p = panel(page);
  const box = p.getByRole('textbox', { name: 'Text for the model' });
  await expect(box).toHaveValue(/^And Abraham journeyed/);
  const next = p
    .getByRole('region', { name: 'Predictions' })
    .getByRole('list', { name: 'Most likely next bytes' })
    .first();
  await expect(next).toBeVisible({ timeout: EVAL_TIMEOUT_MS });
  const continuation = p.getByLabel('Sampled continuation').first();
  const sampledBefore = await continuation.textContent();

  await box.fill('In the beginning God created the heaven and the ear');
  await box.press('Enter');
  await expect(continuation).not.toHaveText(sampledBefore!, { timeout: EVAL_TIMEOUT_MS });
  await expect(continuation).toContainText('heaven and the ear');
  // After "the ear" the model should expect "t" (earth) first.
  await expect(next.getByRole('listitem').first()).toHaveText(/^t\d/);
  const saliency = p.getByRole('region', { name: 'Saliency' });
  await expect(saliency.getByLabel(/^Saliency for the next byte/).first()).toContainText('beginning');
  await expect(page).toHaveURL(/#v1\./);

  await p.scrollIntoViewIfNeeded();
  await screenshots(page, 'inspect-text');
  expect(errors).toEqual([]);
});
