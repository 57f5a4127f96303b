import { expect, test } from '@playwright/test';
import type { ParityResult } from './fixtures/parity';

// The GPT-2 and ViT forward passes on TensorFlow.js's WebGPU backend (SwiftShader here) equal the
// plain-TypeScript reference within 1e-4, logits and every attention map.
test('forward passes on WebGPU match the plain-TypeScript reference', async ({ page }) => {
  await page.goto('/e2e/fixtures/parity.html');
  const out = page.locator('#out');
  await expect(out).toHaveAttribute('data-status', /done|error/, { timeout: 150_000 });
  const r = JSON.parse((await out.textContent()) ?? '{}') as ParityResult;
  console.log('parity on webgpu:', JSON.stringify(r));
  expect(r.error).toBeUndefined();
  expect(r.backend).toBe('webgpu');
  for (const arch of [r.gpt2, r.vit]) {
    expect(arch.logits).toBeLessThan(1e-4);
    expect(arch.attention).toBeLessThan(1e-4);
  }
});
