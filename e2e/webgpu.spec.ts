import { expect, test } from '@playwright/test';
import type { WebGpuSmokeResult } from './fixtures/webgpu';

// Built into dist by vite.config.ts (build.rolldownOptions.input.webgpu).
const FIXTURE = '/e2e/fixtures/webgpu.html';

test('navigator.gpu.requestAdapter() returns an adapter', async ({ page }) => {
  await page.goto(FIXTURE);
  const adapter = await page.evaluate(async () => {
    if (!('gpu' in navigator)) return { error: 'navigator.gpu is missing' };
    const a = await navigator.gpu.requestAdapter();
    if (!a) return { error: 'requestAdapter() returned null' };
    const info = (a as GPUAdapter & { info?: GPUAdapterInfo }).info;
    return { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '' };
  });
  console.log('WebGPU adapter:', JSON.stringify(adapter));
  expect(adapter).not.toHaveProperty('error');
});

test("TensorFlow.js runs a matMul on the 'webgpu' backend", async ({ page }) => {
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  const response = await page.goto(FIXTURE);
  // The preview server must send the cross-origin isolation headers.
  expect(response?.headers()['cross-origin-opener-policy']).toBe('same-origin');
  expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');

  const out = page.locator('#out');
  await expect(out).toHaveAttribute('data-status', /done|error/, { timeout: 150_000 });
  const text = (await out.textContent()) ?? '';
  const r = JSON.parse(text) as WebGpuSmokeResult;
  console.log('webgpu fixture result:', text);
  expect(r.error, `page error; console errors: ${consoleErrors.join('\n')}`).toBeUndefined();

  expect(r.hasNavigatorGpu).toBe(true);
  expect(r.adapter).not.toBeNull();
  expect(r.crossOriginIsolated).toBe(true);
  expect(r.setBackendOk).toBe(true);
  expect(r.backend).toBe('webgpu');
  // [[1,2,3],[4,5,6]] x [[7,8],[9,10],[11,12]]
  expect(r.matMul).toEqual([
    [58, 64],
    [139, 154],
  ]);
});
