// Opening a model by its hub id from a local hub-shaped server (?hub=): byte progress and Cancel,
// the model cached in the browser and reopened from there on reload without a download, a bad id
// and a missing model, and the share link opening the same model and configuration elsewhere.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { serveHub, type HubFixture } from '../src/cli/hub-fixture';
import { collectPageErrors, expectModelShown, screenshots, SLOW_TEST_MS, VIEWPORTS } from './helpers';

test.use({ viewport: VIEWPORTS[0] });

const VIT = 'ViT · Fashion-MNIST';
const NAME = 'hf:org/vit-fashion';

function shippedModel(id: string): Map<string, Uint8Array> {
  const dir = join('public', 'models', id);
  return new Map(
    readdirSync(dir)
      .filter((f) => f !== 'README.md')
      .map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]),
  );
}

const opener = (page: Page) => page.getByRole('region', { name: 'Open from the hub or a URL' });
const status = (page: Page) => page.getByRole('region', { name: 'Status' });

async function typeId(page: Page, text: string) {
  await opener(page).getByLabel('Hub model or folder URL').fill(text);
  await opener(page).getByRole('button', { name: 'Open', exact: true }).click();
}

/** Stops the baseline measurement: this flow is about opening models, not measuring them. */
async function skipBaseline(page: Page) {
  await page.getByRole('region', { name: 'Baseline quality' }).getByRole('button', { name: 'Cancel' }).click();
}

let hub: HubFixture;
test.beforeAll(async () => {
  hub = await serveHub({ 'org/vit-fashion': { main: shippedModel('vit-fashion') } });
});
test.afterAll(async () => {
  await hub?.close();
});

test('a hub model: progress, Cancel, the browser cache, and its share link', async ({ page, browser, context }) => {
  test.setTimeout(SLOW_TEST_MS);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const errors = collectPageErrors(page);
  await page.goto(`/?hub=${encodeURIComponent(hub.url)}`);
  await expectModelShown(page, VIT);
  await skipBaseline(page);
  await expect(opener(page)).toContainText(`Files come from ${hub.url}/org/name/resolve/revision/`);

  // A bad id and a missing model: a message, and the loaded model stays.
  await typeId(page, 'gpt2');
  await expect(page.getByRole('alert')).toContainText('"gpt2" is not a hub model id');
  await page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();
  await typeId(page, 'org/missing');
  await expect(page.getByRole('alert')).toContainText('Could not open hf:org/missing');
  await expect(page.getByRole('alert')).toContainText('config.json was not found');
  await expectModelShown(page, VIT);
  await page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();

  await page.getByLabel('Method', { exact: true }).selectOption('random');

  // A slow download shows its bytes; Cancel stops it and changes nothing.
  hub.delayMs = 250;
  await typeId(page, 'org/vit-fashion');
  await expect(status(page).getByRole('status')).toHaveText(
    /^Downloading hf:org\/vit-fashion · [\d.]+ kB of [\d.]+ [kM]B$/,
  );
  await screenshots(page, 'open-hub-model-downloading');
  await status(page).getByRole('button', { name: 'Cancel' }).click();
  await expect(status(page).getByRole('status')).toHaveText(/^Ready: /);
  await expectModelShown(page, VIT);
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('random');
  await expect(opener(page).getByRole('list')).toHaveCount(0);

  // The whole download: the model opens, and is listed as downloaded with its size.
  hub.delayMs = 10;
  hub.chunkBytes = 64 * 1024;
  await typeId(page, 'org/vit-fashion');
  await expectModelShown(page, NAME);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('your-files');
  await expect(page.getByText(`${hub.url}/org/vit-fashion/resolve/main/`, { exact: true })).toBeVisible();
  const entry = opener(page).getByRole('listitem', { name: NAME });
  await expect(entry).toContainText(/1\.8\d MB · 5 files/);
  await skipBaseline(page);
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('random');
  await page.getByLabel('Cost axis').selectOption('params');
  await screenshots(page, 'open-hub-model-opened');

  // A reload opens it from the cache: the server sees no request.
  const served = hub.requests.length;
  await page.reload();
  await expectModelShown(page, NAME);
  await expect(page.getByText(/\(from this browser's cache\)$/)).toBeVisible();
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('random');
  await expect(page.getByLabel('Cost axis')).toHaveValue('params');
  expect(hub.requests.length).toBe(served);
  await skipBaseline(page);

  await page.getByRole('button', { name: 'Copy link' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Link copied.' })).toBeVisible();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toMatch(/\?hub=[^#]+#v2\.[A-Za-z0-9_-]+$/);

  // The link in a fresh browser (nothing cached there) downloads the same model, same configuration.
  const fresh = await browser.newContext({ viewport: VIEWPORTS[0] });
  try {
    const other = await fresh.newPage();
    const otherErrors = collectPageErrors(other);
    await other.goto(link);
    await expectModelShown(other, NAME);
    await expect(other.getByLabel('Method', { exact: true })).toHaveValue('random');
    await expect(other.getByLabel('Cost axis')).toHaveValue('params');
    expect(hub.requests.length).toBeGreaterThan(served);
    await skipBaseline(other);
    await screenshots(other, 'open-hub-model-shared');
    expect(otherErrors).toEqual([]);
  } finally {
    await fresh.close();
  }

  // Deleting the download empties the list.
  await entry.getByRole('button', { name: 'Delete' }).click();
  await expect(opener(page).getByRole('listitem')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a link made on dropped files asks for them and refuses another model', async ({ page, browser, context }) => {
  test.setTimeout(SLOW_TEST_MS);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const errors = collectPageErrors(page);
  const vit = shippedModel('vit-fashion');
  const gpt = shippedModel('gpt-bytes');
  // Without eval.safetensors nothing is measured: this flow is about which model opens.
  const files = (m: Map<string, Uint8Array>) =>
    ['config.json', 'model.safetensors'].map((name) => ({
      name,
      mimeType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      buffer: Buffer.from(m.get(name)!),
    }));

  await page.goto('/');
  await expectModelShown(page, VIT);
  await skipBaseline(page);
  await page.getByLabel('Choose files…').setInputFiles(files(vit));
  await expectModelShown(page, 'Your checkpoint');
  await page.getByLabel('Method', { exact: true }).selectOption('random');
  await page.getByRole('button', { name: 'Copy link' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Link copied.' })).toBeVisible();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toMatch(/#v2\.[A-Za-z0-9_-]+$/);

  const fresh = await browser.newContext({ viewport: VIEWPORTS[0] });
  try {
    const other = await fresh.newPage();
    const otherErrors = collectPageErrors(other);
    await other.goto(link);
    const alert = other.getByRole('alert');
    await expect(alert).toContainText('This link was made on a checkpoint opened from files');
    await expect(alert).toContainText('config.json, model.safetensors');
    await expect(other.getByText('No model is loaded.')).toBeVisible();
    await screenshots(other, 'open-files-link-waiting');

    await other.getByLabel('Choose files…').setInputFiles(files(gpt));
    await expect(alert).toContainText('These files are not the model the link was made with');
    await expect(other.getByText('No model is loaded.')).toBeVisible();

    await other.getByLabel('Choose files…').setInputFiles(files(vit));
    await expectModelShown(other, 'Your checkpoint');
    await expect(other.getByLabel('Method', { exact: true })).toHaveValue('random');
    await expect(other.getByText('ViTForImageClassification')).toBeVisible();
    expect(otherErrors).toEqual([]);
  } finally {
    await fresh.close();
  }
  expect(errors).toEqual([]);
});
