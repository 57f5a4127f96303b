// The model slice's other sources, with a fake worker: a hub id or URL opened and written into the
// configuration (and so the link), a bad id refused without a change, Cancel keeping the model and
// configuration, a link made on dropped files waiting for them and passing its digest along.
import { afterEach, describe, expect, it } from 'vitest';
import { costReport } from '../engine/model/cost';
import { tinyVit } from '../engine/model/tiny-models';
import type { CachedModel, EngineClient, Metrics, ModelSummary, OpenResult, RemoteRef } from '../workers/client';
import { encodeShareState } from './share';
import { disposeTestStores, flush as tick, manualJob, testStore } from './test-store';

afterEach(disposeTestStores);

const summary: ModelSummary = {
  architecture: 'ViTForImageClassification',
  kind: 'vit',
  family: 'image-classifier',
  layers: 2,
  heads: 3,
  kvHeads: 3,
  headDim: 4,
  positions: 'learned',
  tiedHead: null,
  hidden: 12,
  ffn: 20,
  sequence: 5,
  evalWindow: 5,
  vocabSize: null,
  labels: ['a', 'b', 'c', 'd', 'e'],
  cost: costReport(tinyVit()),
  evalSet: null,
  calibSet: true,
  ignoredTensors: [],
};
const digest = 'cd'.repeat(32);

function fakeEngine() {
  const opens: ReturnType<typeof manualJob<OpenResult>>[] = [];
  const remote: { source: RemoteRef; hub: string }[] = [];
  const expected: (string | undefined)[] = [];
  let cached: CachedModel[] = [];
  const job = () => opens[opens.push(manualJob<OpenResult>()) - 1].job;
  const engine: Partial<EngineClient> = {
    init: async () => ({ name: 'cpu', adapter: null, fallbackReason: null }),
    openDefault: () => job(),
    openFiles: (_f, _p, expect) => {
      expected.push(expect);
      return job();
    },
    openRemote: (source, hub) => {
      remote.push({ source, hub });
      return job();
    },
    cachedModels: async () => cached,
    deleteCachedModel: async (base) => {
      cached = cached.filter((c) => c.base !== base);
    },
    evaluate: () => manualJob<Metrics>().job,
    prune: () => manualJob<never>().job,
  };
  return {
    engine: engine as EngineClient,
    opens,
    remote,
    expected,
    setCached: (c: CachedModel[]) => {
      cached = c;
    },
  };
}

async function started(f: ReturnType<typeof fakeEngine>, hub?: string) {
  const store = testStore({ engine: () => f.engine });
  void store.getState().start('vit-fashion', null, hub);
  await tick();
  f.opens[0].resolve({ summary, files: [], ignoredFiles: [] });
  await tick();
  return store;
}

describe('model sources', () => {
  it('opens a hub id against the page hub; the configuration and link then name it', async () => {
    const f = fakeEngine();
    const store = await started(f, 'http://127.0.0.1:9999/');
    expect(store.getState().hub).toBe('http://127.0.0.1:9999');
    store.getState().setConfig({ method: 'random' });
    void store.getState().openRemote('org/tiny@v2');
    await tick();
    expect(f.remote).toEqual([
      { source: { kind: 'hub', id: 'org/tiny', revision: 'v2' }, hub: 'http://127.0.0.1:9999' },
    ]);
    expect(store.getState().opening).toMatchObject({ status: 'running', key: 'hf:org/tiny@v2' });
    f.opens[1].resolve({ summary, files: ['config.json', 'model.safetensors'], ignoredFiles: [], digest });
    await tick();
    const s = store.getState();
    expect(s.model?.name).toBe('hf:org/tiny@v2');
    expect(s.config).toMatchObject({
      model: 'hf:org/tiny@v2',
      source: { kind: 'hub', id: 'org/tiny', revision: 'v2' },
      method: 'random',
    });
    expect(encodeShareState(s.config)).toMatch(/^#v2\./);
  });

  it('a bad id or URL gets a notice and changes nothing; Cancel keeps the model and configuration', async () => {
    const f = fakeEngine();
    const store = await started(f);
    const before = store.getState().model;
    const config = store.getState().config;
    await store.getState().openRemote('gpt2');
    expect(store.getState().notice).toMatchObject({
      title: 'Could not open gpt2',
      message: expect.stringMatching(/not a hub model id/),
    });
    await store.getState().openRemote('ftp://x/y');
    expect(store.getState().notice?.message).toMatch(/not an http or https URL/);
    expect(f.remote).toHaveLength(0);

    void store.getState().openRemote('https://example.org/m');
    await tick();
    expect(f.remote[0].source).toEqual({ kind: 'url', url: 'https://example.org/m/' });
    store.getState().cancelLoading();
    await tick();
    expect(store.getState().model).toBe(before);
    expect(store.getState().config).toEqual(config);
    expect(store.getState().notice).toBeNull();
  });

  it('a link with a hub source opens that model at start; one made on files waits for them and checks them', async () => {
    const f = fakeEngine();
    const store = testStore({ engine: () => f.engine });
    const hubLink = encodeShareState({
      ...store.getState().config,
      model: 'hf:org/tiny',
      source: { kind: 'hub', id: 'org/tiny', revision: 'main' },
    });
    store.getState().init(hubLink);
    void store.getState().start('hf:org/tiny');
    await tick();
    expect(f.remote[0].source).toEqual({ kind: 'hub', id: 'org/tiny', revision: 'main' });
    expect(f.remote[0].hub).toBe('https://huggingface.co');

    const g = fakeEngine();
    const other = testStore({ engine: () => g.engine });
    const files = ['config.json', 'model.safetensors'];
    other.getState().init(
      encodeShareState({
        ...other.getState().config,
        model: `files:${digest.slice(0, 16)}`,
        source: { kind: 'files', files, digest },
        sparsity: 0.3,
      }),
    );
    void other.getState().start(null);
    await tick();
    expect(g.opens).toHaveLength(0);
    expect(other.getState().notice?.message).toMatch(/config\.json, model\.safetensors/);
    expect(other.getState().linkFiles).toEqual({ files, digest });

    void other.getState().openFiles([]);
    await tick();
    expect(g.expected).toEqual([digest]);
    g.opens[0].reject(new Error('These files are not the model the link was made with'));
    await tick();
    expect(other.getState().model).toBeNull();
    expect(other.getState().notice?.message).toMatch(/not the model the link was made with/);
    expect(other.getState().config.sparsity).toBe(0.3);

    void other.getState().openFiles([]);
    await tick();
    g.opens[1].resolve({ summary, files, ignoredFiles: [], digest });
    await tick();
    expect(other.getState().model?.source).toEqual({ kind: 'files', files, digest });
    expect(other.getState().linkFiles).toBeNull();
    expect(other.getState().config).toMatchObject({ source: { kind: 'files', digest }, sparsity: 0.3 });
  });

  it('lists the cached models and deletes one', async () => {
    const f = fakeEngine();
    const entry: CachedModel = {
      base: 'https://huggingface.co/org/tiny/resolve/main/',
      name: 'hf:org/tiny',
      source: { kind: 'hub', id: 'org/tiny', revision: 'main' },
      files: [{ name: 'config.json', bytes: 10 }],
      bytes: 10,
      savedAt: '2026-01-01T00:00:00.000Z',
    };
    f.setCached([entry]);
    const store = await started(f);
    expect(store.getState().cached).toEqual([entry]);
    await store.getState().deleteCached(entry.base);
    expect(store.getState().cached).toEqual([]);
  });
});
