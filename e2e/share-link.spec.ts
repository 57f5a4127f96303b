import { expect, test } from '@playwright/test';
import { collectPageErrors, EVAL_TIMEOUT_MS, expectModelShown, screenshots, SLOW_TEST_MS, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

test('Copy link, opened in a fresh browser context, restores the same state and metric', async ({
  page,
  browser,
  context,
}) => {
  test.setTimeout(SLOW_TEST_MS);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const errors = collectPageErrors(page);
  await page.goto('/');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  await page.getByRole('region', { name: 'Baseline quality' }).getByRole('button', { name: 'Cancel' }).click();
  await page.getByLabel('Method', { exact: true }).selectOption('random');
  await page.getByLabel('Scope').selectOption('global');
  await page.getByLabel('Cost axis').selectOption('params');
  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  await slider.focus();
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.3');
  const metric = page.getByTestId('pruned-metric');
  await expect(metric).toHaveText(/^\d+(\.\d+)?%$/, { timeout: EVAL_TIMEOUT_MS });
  const value = await metric.textContent();

  await page.getByRole('button', { name: 'Copy link' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Link copied.' })).toBeVisible();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toMatch(/#v1\.[A-Za-z0-9_-]+$/);

  const fresh = await browser.newContext({ viewport: VIEWPORTS[0] });
  const other = await fresh.newPage();
  await other.goto(link);
  await expectModelShown(other, 'ViT · Fashion-MNIST');
  await expect(other.getByLabel('Method', { exact: true })).toHaveValue('random');
  await expect(other.getByLabel('Scope')).toHaveValue('global');
  await expect(other.getByLabel('Cost axis')).toHaveValue('params');
  await expect(other.getByRole('slider', { name: 'Global sparsity' })).toHaveValue('0.3');
  await other.getByRole('region', { name: 'Baseline quality' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(other.getByTestId('pruned-metric')).toHaveText(value!, { timeout: EVAL_TIMEOUT_MS });
  await screenshots(other, 'share-link-opened');
  await fresh.close();
  expect(errors).toEqual([]);
});
