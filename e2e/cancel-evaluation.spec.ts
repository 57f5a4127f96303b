import { expect, test } from '@playwright/test';
import { expectModelShown, metricPanel, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

test('Cancel stops measuring the baseline; Measure starts it again', async ({ page }) => {
  await page.goto('/');
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  const metric = metricPanel(page);
  await expect(metric.getByRole('progressbar', { name: 'Measuring progress' })).toBeVisible();

  // Keyboard: the Cancel button is a real button.
  await metric.getByRole('button', { name: 'Cancel' }).focus();
  await page.keyboard.press('Enter');
  await expect(metric).toContainText('Measurement cancelled.');
  await expect(metric.getByRole('progressbar')).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'Status' })).toContainText('Ready: ViT · Fashion-MNIST');

  await metric.getByRole('button', { name: 'Measure' }).click();
  await expect(metric.getByRole('progressbar', { name: 'Measuring progress' })).toBeVisible();
  await expect(metric.getByRole('button', { name: 'Cancel' })).toBeVisible();
});
