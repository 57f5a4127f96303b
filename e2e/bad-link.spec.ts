import { expect, test, type Page } from '@playwright/test';
import { expectModelShown, screenshots, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

async function expectDefaults(page: Page) {
  await expectModelShown(page, 'ViT · Fashion-MNIST');
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('magnitude');
  await expect(page.getByLabel('Granularity')).toHaveValue('unstructured');
  await expect(page.getByRole('slider', { name: 'Global sparsity' })).toHaveValue('0');
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');

test('a corrupt, truncated, tampered or future-version link: a clear message and the defaults', async ({ page }) => {
  const good = b64(JSON.stringify({ model: 'vit-fashion', method: 'wanda', sparsity: 0.5 }));
  const cases: [string, RegExp][] = [
    [`#v1.${good.slice(0, good.length - 7)}`, /corrupt or truncated/],
    ['#v1.%%%garbage', /base64url|corrupt/],
    [`#v1.${b64(JSON.stringify({ model: 'vit-fashion', sparsity: 3 }))}`, /"sparsity" must be a number from 0 to 0.95/],
    [
      `#v1.${b64(JSON.stringify({ model: 'vit-fashion', method: '<img src=x onerror="window.pwned=1">' }))}`,
      /"method" must be one of/,
    ],
    ['#v9.eyJtb2RlbCI6InZpdC1mYXNoaW9uIn0', /newer version of the workbench \(link format v9/],
  ];
  for (const [hash, message] of cases) {
    await page.goto(`/${hash}`);
    const alert = page.getByRole('alert', { name: 'Link problem' });
    await expect(alert).toContainText('This link could not be opened');
    await expect(alert).toContainText(message);
    await expect(alert).toContainText('The default configuration is shown instead.');
    await expectDefaults(page);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await expect(page.locator('img[src="x"]')).toHaveCount(0);
  }
  await screenshots(page, 'bad-link');
  await page.getByRole('alert', { name: 'Link problem' }).getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByRole('alert', { name: 'Link problem' })).toHaveCount(0);
});
