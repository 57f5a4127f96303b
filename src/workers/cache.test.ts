// The browser's cache of downloaded models (on a Map-backed cache here), the weights digest a link
// checks dropped files against, and fetching a hub-shaped folder with byte progress and 404s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHub, type HubFixture } from '../cli/hub-fixture';
import { hubBaseUrl, parseHubId } from '../engine/hub';
import { serializeWeights } from '../engine/model/checkpoint';
import { randomHostWeights, tinyVit, TINY_VIT_CONFIG } from '../engine/model/tiny-models';
import { fetchModelFolder, modelFilesOf, ModelSession } from '../engine/session';
import { deleteCachedModel, listCachedModels, memoryCache, readCachedModel, saveModel } from './cache';
import { safetensorsHeader, weightsDigest } from './digest';
import { bytesSource } from '../engine/io/byte-source';
import { downloadProgress, trackedFetch } from './fetch';
import { formatBytes } from './helpers';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const vitFolder = (seed: number) =>
  new Map([
    ['config.json', json(TINY_VIT_CONFIG)],
    ['model.safetensors', serializeWeights(randomHostWeights(tinyVit(), seed))],
  ]);

let hub: HubFixture;
beforeAll(async () => {
  hub = await serveHub({ 'org/vit': { main: vitFolder(1) }, 'org/empty': { main: new Map() } });
});
afterAll(() => hub.close());

describe('remote folders', () => {
  it('fetches a hub model folder with byte progress; a missing one is named', async () => {
    const labels: string[] = [];
    const report = downloadProgress('hf:org/vit', (p) => labels.push(p.label), formatBytes, 0);
    const files = await fetchModelFolder(
      hubBaseUrl(hub.url, parseHubId('org/vit')),
      trackedFetch(new AbortController().signal, report),
    );
    expect([...files.keys()]).toEqual(['config.json', 'model.safetensors']);
    expect(labels.at(-1)).toMatch(/^Downloading hf:org\/vit · [\d.]+ kB of [\d.]+ kB$/);
    expect(ModelSession.open(modelFilesOf(files)).summary().architecture).toBe('ViTForImageClassification');
    await expect(fetchModelFolder(hubBaseUrl(hub.url, parseHubId('org/empty')))).rejects.toThrow(
      /there is no model at .*org\/empty\/resolve\/main\/: its config.json was not found/,
    );
  });

  it('stops a download when cancelled', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(
      fetchModelFolder(
        hubBaseUrl(hub.url, parseHubId('org/vit')),
        trackedFetch(ctrl.signal, () => {}),
      ),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('model cache', () => {
  it('keeps, lists, reads back and deletes a model; a model with a missing file is not offered', async () => {
    const cache = memoryCache();
    const base = 'https://hub.test/org/vit/resolve/main/';
    const files = vitFolder(2);
    await saveModel(
      cache,
      { base, name: 'hf:org/vit', source: { kind: 'hub', id: 'org/vit', revision: 'main' } },
      files,
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(cache.store.has(`${base}model.safetensors`)).toBe(true);
    const [listed] = await listCachedModels(cache);
    expect(listed).toMatchObject({
      base,
      name: 'hf:org/vit',
      files: [{ name: 'config.json' }, { name: 'model.safetensors' }],
    });
    expect(listed.bytes).toBe([...files.values()].reduce((n, b) => n + b.length, 0));
    expect(await readCachedModel(cache, base)).toEqual(files);
    expect(await readCachedModel(cache, 'https://hub.test/other/')).toBeNull();

    cache.store.delete(`${base}model.safetensors`);
    expect(await readCachedModel(cache, base)).toBeNull();
    await deleteCachedModel(cache, base);
    expect(cache.store.size).toBe(0);
    expect(await listCachedModels(cache)).toEqual([]);
  });
});

describe('weights digest', () => {
  it('hashes the safetensors headers: the same model matches, another does not', async () => {
    const a = vitFolder(1).get('model.safetensors')!;
    const b = vitFolder(1).get('model.safetensors')!;
    const header = await safetensorsHeader(bytesSource(a));
    expect(header.length).toBeLessThan(a.length);
    expect(new TextDecoder().decode(header.subarray(8))).toMatch(/^\{/);
    const d = await weightsDigest(a);
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(await weightsDigest(new Map([['model.safetensors', b]]))).toBe(d);
    const other = serializeWeights(randomHostWeights({ ...tinyVit(), numLayers: 1 } as never, 1));
    expect(await weightsDigest(other)).not.toBe(d);
  });
});
