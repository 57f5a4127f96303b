import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { blocks, collectPageErrors, expectModelShown, screenshots, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

const VIT = 'ViT · Fashion-MNIST';
const config = readFileSync('public/models/vit-fashion/config.json');
const weights = readFileSync('public/models/vit-fashion/model.safetensors');

/** The loaded vit-fashion is still what the page shows. */
async function expectVitStillShown(page: Page) {
  await expectModelShown(page, VIT);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('vit-fashion');
  await expect(page.getByText('public/models/vit-fashion')).toBeVisible();
  await expect(blocks(page)).toHaveCount(4);
  await expect(page.getByRole('region', { name: 'Size and compute' })).toContainText(/Parameters\s*\d/);
}

test('a truncated model.safetensors is reported by name and the loaded model stays', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto('/');
  await expectModelShown(page, VIT);

  await page.getByLabel('Choose files…').setInputFiles([
    { name: 'config.json', mimeType: 'application/json', buffer: config },
    {
      name: 'model.safetensors',
      mimeType: 'application/octet-stream',
      buffer: weights.subarray(0, Math.floor(weights.length / 2)),
    },
  ]);

  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Could not open your files');
  await expect(alert).toContainText(
    /model\.safetensors: tensor "[^"]+": data_offsets \[\d+, \d+\] lie outside the data buffer of \d+ bytes/,
  );
  await expectVitStillShown(page);
  await expect(page.getByRole('region', { name: 'Status' })).not.toContainText('your files');

  await screenshots(page, 'bad-checkpoint');

  // The message can be dismissed; the model is untouched.
  await alert.getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expectVitStillShown(page);
  expect(errors).toEqual([]);
});

test('dropping files that are not a checkpoint is reported and the loaded model stays', async ({ page }) => {
  await page.goto('/');
  await expectModelShown(page, VIT);

  const dataTransfer = await page.evaluateHandle(
    ({ configText }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([configText], 'config.json', { type: 'application/json' }));
      dt.items.add(new File(['this is not a safetensors file at all'], 'model.safetensors'));
      return dt;
    },
    { configText: config.toString('utf8') },
  );
  const zone = page.getByRole('region', { name: 'Open your own checkpoint' }).getByText(/^Drop/);
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });

  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Could not open your files');
  await expect(alert).toContainText(/model\.safetensors: header length \d+ (is absurd|exceeds)/);
  await expectVitStillShown(page);
});

test('a config.json without a model.safetensors is refused with a clear message', async ({ page }) => {
  await page.goto('/');
  await expectModelShown(page, VIT);
  await page
    .getByLabel('Choose files…')
    .setInputFiles([{ name: 'config.json', mimeType: 'application/json', buffer: config }]);
  await expect(page.getByRole('alert')).toContainText('model.safetensors is missing');
  await expectVitStillShown(page);
});
