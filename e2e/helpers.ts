// Shared steps of the workbench's browser tests: the page is used as a person would (roles,
// labels, visible text); screenshots go to test-results/screens/.
import { readFileSync } from 'node:fs';
import { type Download, expect, type Page } from '@playwright/test';

// Measuring a model's baseline runs the whole eval set through TensorFlow.js on WebGPU, which here
// is SwiftShader on a busy 2-core CPU: minutes, not seconds. Tests that wait for a metric get
// these budgets (they bound the wait; no test asserts how long anything took). A pruned ViT's
// measurement after a slider step took 2.3 min alone, 3.6 min beside a busy loop, and over 7 min
// late in a whole run beside one.
export const EVAL_TIMEOUT_MS = 600_000;
export const SLOW_TEST_MS = 720_000;

export const VIEWPORTS = [
  { width: 1440, height: 900 },
  { width: 1280, height: 720 },
] as const;

/** Screenshots of the whole page at each viewport size: test-results/screens/<name>-<w>x<h>.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  for (const v of VIEWPORTS) {
    await page.setViewportSize(v);
    await page.screenshot({ path: `test-results/screens/${name}-${v.width}x${v.height}.png`, fullPage: true });
  }
  await page.setViewportSize(VIEWPORTS[0]);
}

/** The model map's block rows. */
export const blocks = (page: Page) => page.getByRole('group', { name: /^Block \d+$/ });

/** Waits until the model called `name` is shown. */
export async function expectModelShown(page: Page, name: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 2, name })).toBeVisible();
}

/** The measured-quality panel. */
export const metricPanel = (page: Page) => page.getByRole('region', { name: 'Baseline quality' });

/** The number shown after `label` in `text` ("Accuracy19.5%" → 19.5). */
export function numberAfter(text: string, label: string): number {
  const m = new RegExp(`${label}\\s*(-?[\\d.,]+)`).exec(text);
  if (!m) throw new Error(`no number after "${label}" in: ${text}`);
  return Number(m[1].replace(/,/g, ''));
}

/** Fails the test on uncaught page errors. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** A magnitude sweep of vit-fashion as an earlier session left it in this browser's storage (zustand's persist format). */
export const STORED_MAGNITUDE_SWEEP = {
  state: {
    config: { model: 'vit-fashion', method: 'magnitude' },
    curves: [
      {
        key: `vit-fashion|${JSON.stringify({
          kind: 'unstructured',
          recipe: {
            method: 'magnitude',
            sparsity: 0,
            scope: 'layer',
            nm: null,
            allocation: 'uniform',
            calibration: { source: 'train', count: 128, seed: 0 },
            seed: 0,
          },
        })}`,
        label: 'magnitude',
        model: 'vit-fashion',
        status: 'done',
        points: [
          { amount: 0.3, metric: 0.889, flops: 5.0e6, params: 150e3, bytes: 620e3 },
          { amount: 0.6, metric: 0.87, flops: 3.2e6, params: 90e3, bytes: 400e3 },
        ],
      },
    ],
  },
  version: 0,
};

/** Puts `stored` in the page's localStorage before its first load only (reloads then read what the page kept). */
export async function seedStorage(page: Page, stored: unknown): Promise<void> {
  await page.addInitScript((s) => {
    if (!sessionStorage.getItem('seeded')) {
      localStorage.setItem('pruning-workbench:v1', s);
      sessionStorage.setItem('seeded', '1');
    }
  }, JSON.stringify(stored));
}

/** Presses Export and waits for its `count` downloads: each file's bytes by its name. */
export async function exportedFiles(page: Page, count: number): Promise<Map<string, Buffer>> {
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export pruned checkpoint' }).click();
  await expect.poll(() => downloads.length, { timeout: EVAL_TIMEOUT_MS }).toBe(count);
  const byName = new Map<string, Buffer>();
  for (const d of downloads) byName.set(d.suggestedFilename(), readFileSync((await d.path())!));
  return byName;
}
