import { expect, test } from '@playwright/test';
import { expectModelShown, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

test('the configuration survives a reload and a visit without the link', async ({ page }) => {
  await page.goto('/');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  await page.getByLabel('Granularity').selectOption('heads');
  await page.getByLabel('Score').selectOption('entropy');
  await page.getByLabel('Calibration source').selectOption('held-out');
  await page.getByLabel('Calibration size').fill('64');
  await page.getByLabel('Cost axis').selectOption('bytes');
  const slider = page.getByRole('slider', { name: 'Share removed' });
  await slider.focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('0.25');

  const check = async () => {
    await expectModelShown(page, 'ViT · Fashion-MNIST');
    await expect(page.getByLabel('Granularity')).toHaveValue('heads');
    await expect(page.getByLabel('Score')).toHaveValue('entropy');
    await expect(page.getByLabel('Calibration source')).toHaveValue('held-out');
    await expect(page.getByLabel('Calibration size')).toHaveValue('64');
    await expect(page.getByLabel('Cost axis')).toHaveValue('bytes');
    await expect(page.getByRole('slider', { name: 'Share removed' })).toHaveValue('0.25');
  };
  await page.reload();
  await check();
  // Without the hash, the browser's storage restores it.
  await page.goto('/');
  await check();
});
