import { expect, test } from '@playwright/test';
import { collectPageErrors, EVAL_TIMEOUT_MS, expectModelShown, screenshots, SLOW_TEST_MS, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

const GPT = 'GPT-2 · bytes of the King James Bible';
const PREFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9 };

/** "3.37 MB" → 3_370_000. */
function bytesOf(text: string | null): number {
  const m = /^([\d.]+) ([kMG]?)B$/.exec(text?.trim() ?? '');
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * PREFIX[m[2]];
}

test('4-bit round to nearest: the stored size falls, the chart shows the point, the link keeps the bits', async ({
  page,
  browser,
  context,
}) => {
  test.setTimeout(SLOW_TEST_MS);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const errors = collectPageErrors(page);
  await page.goto('/?model=gpt-bytes&backend=wasm');
  await expectModelShown(page, GPT);
  const pruned = page.getByRole('region', { name: 'Pruned model' });
  const size = pruned.getByTestId('pruned-size');
  const unquantized = bytesOf(await size.textContent());

  // At the default method and 0% sparsity, quantizing alone changes the model.
  const bits = page.getByLabel('Bits', { exact: true });
  await expect(page.getByLabel('Group size')).toBeDisabled();
  await bits.selectOption('4');
  await page.getByLabel('Quantizer').selectOption('rtn');
  await expect(pruned.getByTestId('pruned-metric')).toHaveText(/^\d+(\.\d+)?$/, { timeout: EVAL_TIMEOUT_MS });
  await expect(pruned).toContainText('Size (4-bit)');
  const quantized = bytesOf(await size.textContent());
  // The block matrices at 4 bits instead of 32; the embeddings and the head stay 32-bit floats.
  expect(quantized).toBeLessThan(unquantized * 0.6);

  const chart = page.getByRole('region', { name: 'Trade-off' });
  await chart.getByLabel('Cost axis').selectOption('bytes');
  await chart.getByLabel('Colour by').selectOption('bits');
  await expect(chart.getByTestId('current-point')).toHaveAttribute('aria-label', /4-bit, bits per byte [\d.]+, Size/);
  await expect(chart.getByRole('list', { name: 'Legend' })).toContainText('4-bit');
  await chart.getByTestId('current-point').scrollIntoViewIfNeeded();
  await screenshots(page, 'quantization');

  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  const fresh = await browser.newContext({ viewport: VIEWPORTS[0] });
  const other = await fresh.newPage();
  await other.goto(link);
  await expectModelShown(other, GPT);
  await expect(other.getByLabel('Bits', { exact: true })).toHaveValue('4');
  await expect(other.getByLabel('Quantizer')).toHaveValue('rtn');
  await expect(other.getByRole('region', { name: 'Trade-off' }).getByLabel('Colour by')).toHaveValue('bits');
  await fresh.close();
  expect(errors).toEqual([]);
});
