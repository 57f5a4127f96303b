import { expect, test } from '@playwright/test';
import type { KernelParityResult } from './fixtures/kernels';

// Every WGSL kernel in the test browser's WebGPU (SwiftShader here) against its plain-TypeScript
// twin on random and adversarial inputs, and the pruned layers' products through TF.js tensors
// against tf.matMul: the same suite the unit tests run through Dawn in Node.
test('our WebGPU kernels match their references in the browser', async ({ page }) => {
  await page.goto('/e2e/fixtures/kernels.html');
  const out = page.locator('#out');
  await expect(out).toHaveAttribute('data-status', /done|error/, { timeout: 170_000 });
  const r = JSON.parse((await out.textContent()) ?? '{}') as KernelParityResult;
  await page.screenshot({ path: test.info().outputPath('kernels.png'), fullPage: true });
  expect(r.error).toBeUndefined();
  console.log(`kernel parity on ${r.adapter}: ${r.checks.length} checks`);
  const kernels = new Set(r.checks.map((c) => c.kernel));
  for (const k of [
    'global top-k',
    'row top-k',
    'N:M mask',
    'token top-k',
    'CSR product (90% pruned)',
    '2:4 product',
    'dense matrix-vector',
    'TF.js tensors in and out',
  ])
    expect(kernels).toContain(k);
  expect(r.checks.filter((c) => !c.ok)).toEqual([]);
  await expect(page.locator('#summary')).toHaveText(/^\d+ of \d+ checks equal\.$/);
});
