// The model slice with a fake worker: opening a model and measuring it, a failed open that keeps
// the loaded model, Cancel, and the configuration following the opened model.
import { afterEach, describe, expect, it } from 'vitest';
import { costReport } from '../engine/model/cost';
import { tinyVit } from '../engine/model/tiny-models';
import type { EngineClient, Metrics, ModelSummary, OpenResult, ProgressFn, WorkbenchRecipe } from '../workers/client';
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
  evalSet: { kind: 'images', count: 10 },
  calibSet: true,
  ignoredTensors: [],
};
const metrics: Metrics = { kind: 'classifier', accuracy: 0.5, loss: 1, count: 10 };

function fakeEngine() {
  const opens: ReturnType<typeof manualJob<OpenResult>>[] = [];
  const evals: ReturnType<typeof manualJob<Metrics>>[] = [];
  const progress: ProgressFn[] = [];
  const prunes: WorkbenchRecipe[] = [];
  const evalData: ReturnType<typeof manualJob<ModelSummary>>[] = [];
  const windows: { tokens: number | null; answer: ReturnType<typeof manualJob<ModelSummary>> }[] = [];
  // Only what the model slice calls; the other calls are never reached here.
  const engine: Partial<EngineClient> = {
    init: async () => ({ name: 'webgpu', adapter: 'test', fallbackReason: null }),
    openDefault: (_id, p) => {
      if (p) progress.push(p);
      return opens[opens.push(manualJob<OpenResult>()) - 1].job;
    },
    openFiles: (_f, p) => {
      if (p) progress.push(p);
      return opens[opens.push(manualJob<OpenResult>()) - 1].job;
    },
    evaluate: (p) => {
      if (p) progress.push(p);
      return evals[evals.push(manualJob<Metrics>()) - 1].job;
    },
    prune: (recipe) => {
      prunes.push(recipe);
      return manualJob<never>().job;
    },
    sweep: () => manualJob<number>().job,
    useEvalData: () => evalData[evalData.push(manualJob<ModelSummary>()) - 1].job,
    useWindow: (tokens) => windows[windows.push({ tokens, answer: manualJob<ModelSummary>() }) - 1].answer.job.result,
    exportFiles: () => manualJob<never>().job,
    terminate: () => {},
  };
  return { engine: engine as EngineClient, opens, evals, progress, prunes, evalData, windows };
}

describe('model slice', () => {
  it('measures a model that brought no data on the data given, and says why when it cannot', async () => {
    const f = fakeEngine();
    const store = testStore({
      engine: () => f.engine,
      loadCatalog: async () => [{ id: 'vit-fashion', name: 'ViT', task: 'image classification' }],
    });
    void store.getState().start(null);
    await tick();
    f.opens[0].resolve({ summary: { ...summary, evalSet: null }, files: ['config.json'], ignoredFiles: [] });
    await tick();
    expect(store.getState().evaluation.status).not.toBe('running');
    const done = store.getState().measureOn({ kind: 'shipped-text' });
    f.evalData[0].resolve(summary);
    expect(await done).toBeNull();
    expect(store.getState().model?.summary.evalSet).toEqual(summary.evalSet);
    expect(store.getState().evaluation.status).toBe('running');
    const failed = store.getState().measureOn({ kind: 'shipped-text' });
    f.evalData[1].reject(new Error('the text is too short'));
    expect(await failed).toBe('the text is too short');
  });

  it('opens the default model, then measures it', async () => {
    const f = fakeEngine();
    const store = testStore({
      engine: () => f.engine,
      loadCatalog: async () => [{ id: 'vit-fashion', name: 'ViT', task: 'image classification' }],
    });
    void store.getState().start(null);
    await tick();
    expect(store.getState().opening).toMatchObject({ status: 'running', key: 'vit-fashion' });
    f.opens[0].resolve({ summary, files: ['config.json', 'model.safetensors'], ignoredFiles: [] });
    await tick();
    const s = store.getState();
    expect(s.model?.name).toBe('ViT');
    expect(s.selectedId).toBe('vit-fashion');
    expect(s.backend?.name).toBe('webgpu');
    expect(s.evaluation.status).toBe('running');
    f.evals[0].resolve(metrics);
    await tick();
    expect(store.getState().evaluation).toEqual({ status: 'done', key: '1', value: metrics });
  });

  it('keeps the loaded model when opening files fails, and shows the engine message', async () => {
    const f = fakeEngine();
    const store = testStore({ engine: () => f.engine });
    void store.getState().start('vit-fashion');
    await tick();
    f.opens[0].resolve({ summary, files: [], ignoredFiles: [] });
    await tick();
    f.evals[0].resolve(metrics);
    await tick();
    const before = store.getState().model;

    void store.getState().openFiles([]);
    await tick();
    f.opens[1].reject(new Error('model.safetensors: header length 9 exceeds the 3 bytes after the length field'));
    await tick();
    const s = store.getState();
    expect(s.model).toBe(before);
    expect(s.selectedId).toBe('vit-fashion');
    expect(s.opening.status).toBe('failed');
    expect(s.evaluation.status).toBe('done');
    expect(s.notice).toEqual({
      title: 'Could not open your files',
      message: 'model.safetensors: header length 9 exceeds the 3 bytes after the length field',
    });
  });

  it('Cancel stops a measurement; a newer model wins over an older one still opening', async () => {
    const f = fakeEngine();
    const store = testStore({ engine: () => f.engine });
    void store.getState().start('a');
    await tick();
    void store.getState().selectModel('b'); // cancels the open of 'a'
    await tick();
    expect(f.opens[0].cancelled()).toBe(true);
    expect(store.getState().opening).toMatchObject({ status: 'running', key: 'b' });
    f.opens[1].resolve({ summary, files: [], ignoredFiles: [] });
    await tick();
    expect(store.getState().model?.source).toEqual({ kind: 'default', id: 'b' });
    store.getState().cancelEvaluation();
    await tick();
    expect(store.getState().evaluation.status).toBe('cancelled');
  });

  it('a newly opened default model goes into the configuration, which is pruned on it', async () => {
    const f = fakeEngine();
    const store = testStore({ engine: () => f.engine });
    store.getState().setConfig({ sparsity: 0.4 });
    void store.getState().start('gpt-bytes');
    await tick();
    expect(f.prunes).toHaveLength(0);
    f.opens[0].resolve({ summary, files: [], ignoredFiles: [] });
    await tick();
    expect(store.getState().config.model).toBe('gpt-bytes');
    expect(f.prunes).toHaveLength(1);
    expect(f.prunes[0]).toMatchObject({ kind: 'unstructured', recipe: { sparsity: 0.4, calibration: { count: 32 } } });
  });

  it('a window of text goes to the worker, then the baseline and the configuration are measured on it', async () => {
    const f = fakeEngine();
    const store = testStore({ engine: () => f.engine });
    const lm: ModelSummary = { ...summary, kind: 'gpt2', family: 'causal-lm', sequence: 128, evalWindow: 128 };
    store.getState().setConfig({ sparsity: 0.4 });
    void store.getState().start('gpt-bytes');
    await tick();
    f.opens[0].resolve({ summary: lm, files: [], ignoredFiles: [] });
    await tick();
    expect([f.evals.length, f.prunes.length, f.windows.length]).toEqual([1, 1, 0]);
    store.getState().setConfig({ window: 32 });
    await tick();
    expect(f.windows.map((w) => w.tokens)).toEqual([32]);
    expect([f.evals.length, f.prunes.length]).toEqual([1, 1]); // nothing measured before the worker took it
    f.windows[0].answer.resolve({ ...lm, evalWindow: 32 });
    await tick();
    expect(store.getState().model?.summary.evalWindow).toBe(32);
    expect([f.evals.length, f.prunes.length]).toEqual([2, 2]);
    expect(f.prunes[1]).toMatchObject({ recipe: { calibration: { length: 32 } } });
    // A window the worker refuses: a notice, and the configuration back on the window in use.
    store.getState().setConfig({ window: 100 });
    await tick();
    f.windows[1].answer.reject(new Error('the evaluation text is too short'));
    await tick();
    expect(store.getState().notice?.message).toBe('the evaluation text is too short');
    expect(store.getState().config.window).toBe(32);
    expect([f.evals.length, f.prunes.length]).toEqual([2, 2]);
  });

  it('a window answered after the user cancelled a measurement does not start it again', async () => {
    const f = fakeEngine();
    const store = testStore({ engine: () => f.engine });
    const lm: ModelSummary = { ...summary, kind: 'gpt2', family: 'causal-lm', sequence: 128, evalWindow: 128 };
    void store.getState().start('gpt-bytes');
    await tick();
    f.opens[0].resolve({ summary: { ...lm, evalSet: null }, files: [], ignoredFiles: [] });
    await tick();
    store.getState().setConfig({ window: 32 });
    await tick();
    // Text given while the worker still answers the window: it is measured, and Cancel pressed.
    void store.getState().measureOn({ kind: 'shipped-text' });
    f.evalData[0].resolve({ ...lm, evalWindow: 32 });
    await tick();
    expect(f.evals).toHaveLength(1);
    store.getState().cancelEvaluation();
    await tick();
    f.windows[0].answer.resolve({ ...lm, evalWindow: 32 });
    await tick();
    expect(f.evals).toHaveLength(1);
    expect(store.getState().evaluation.status).toBe('cancelled');
  });
});
