// The configuration slice with a fake worker: recipes filled in from the catalogue, the newest prune
// wins, Cancel, the throttled prune on a slider step, the link over the browser's storage.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkRecipe } from '../engine/pruning/recipe';
import {
  abortError,
  type EngineClient,
  type ProgressFn,
  type WorkbenchRecipe,
  type WorkbenchReport,
} from '../workers/client';
import { defaultShareState, encodeShareState, type ShareState } from './share';
import { amountOf, curveOf, densePoint, type LoadedModel, pointOf, recipeOf, restoredOf, STORAGE_KEY } from './store';
import { disposeTestStores, flush, manualJob, memoryStorage, testStore } from './test-store';

afterEach(disposeTestStores);

const report = (accuracy: number) =>
  ({
    metric: { kind: 'classifier', accuracy, loss: 0, count: 1 },
    flops: 10,
    nonzeroParams: 5,
    bytes: { dense: 40, sparse: 20, nm24: null, stored: 12 },
    recipe: { method: 'magnitude', sparsity: 0.5, quant: null },
  }) as unknown as WorkbenchReport;
const vit = { key: 1, summary: { kind: 'vit', family: 'image-classifier', layers: 4 } } as unknown as LoadedModel;

function pruningStore() {
  const jobs: ReturnType<typeof manualJob<WorkbenchReport>>[] = [];
  const asked: WorkbenchRecipe[] = [];
  const progress: ProgressFn[] = [];
  const engine = {
    prune: (r: WorkbenchRecipe, onProgress: ProgressFn) => {
      asked.push(r);
      progress.push(onProgress);
      return jobs[jobs.push(manualJob<WorkbenchReport>()) - 1].job;
    },
  } as unknown as EngineClient;
  const store = testStore({ engine: () => engine });
  store.setState({ model: vit });
  return { store, jobs, asked, progress };
}

describe('recipes', () => {
  it('fill in every default from the catalogue, for the model family', () => {
    const c = { ...defaultShareState(), method: 'wanda' as const, sparsity: 0.4 };
    expect(recipeOf(c, 'image-classifier')).toEqual({
      kind: 'unstructured',
      recipe: {
        method: 'wanda',
        sparsity: 0.4,
        scope: 'row',
        nm: null,
        allocation: 'uniform',
        calibrationMode: 'one-shot',
        calibration: { source: 'train', count: 128, seed: 0 },
        seed: 0,
      },
    });
    expect(recipeOf(c, 'causal-lm')).toMatchObject({ recipe: { calibrationMode: 'sequential' } });
    expect(recipeOf({ ...c, scope: 'layer', calibMode: 'sequential' }, 'image-classifier')).toMatchObject({
      recipe: { scope: 'layer', calibrationMode: 'sequential' },
    });
    const owl = recipeOf({ ...c, method: 'magnitude', allocation: 'owl', owlM: 7, owlLambda: 0.1 }, 'image-classifier');
    expect(owl).toMatchObject({ recipe: { allocation: 'owl', owl: { m: 7, lambda: 0.1 }, scope: 'layer' } });
    expect(owl.recipe).not.toHaveProperty('calibrationMode');
    const nm = recipeOf({ ...c, granularity: 'nm' }, 'image-classifier');
    expect(nm).toMatchObject({ recipe: { sparsity: 0.5, nm: { n: 2, m: 4 }, allocation: 'uniform' } });
    expect(nm.recipe).not.toHaveProperty('scope');
    expect(recipeOf({ ...c, granularity: 'heads', score: 'entropy' }, 'image-classifier')).toEqual({
      kind: 'structured',
      recipe: {
        granularity: 'heads',
        amount: 0.4,
        score: 'entropy',
        scope: 'layer',
        calibration: { source: 'train', count: 128, seed: 0 },
      },
    });
    // Tokens and sublayers: the family's own score, no scope.
    const tokens = { ...c, granularity: 'tokens' as const, tokenKeep: 0.75 };
    expect(recipeOf(tokens, 'image-classifier').recipe).toMatchObject({ score: 'cls', amount: 0.25 });
    expect(recipeOf(tokens, 'causal-lm').recipe).toMatchObject({ score: 'last-query' });
    expect(recipeOf(tokens, 'causal-lm').recipe).not.toHaveProperty('scope');
    expect(recipeOf({ ...c, granularity: 'sublayers' }, 'causal-lm').recipe).toMatchObject({ score: 'finercut' });
    expect(amountOf(tokens)).toBe(0.25);
  });

  it('carry the quantization and the allocation’s parameters; structured pruning quantizes nothing', () => {
    const c = { ...defaultShareState('gpt-bytes'), method: 'wanda' as const, sparsity: 0.5 };
    const q = { ...c, bits: 4 as const, groupSize: 128 as const, quantizer: 'gptq' as const, actOrder: true };
    expect(recipeOf(q, 'causal-lm').recipe).toMatchObject({
      method: 'wanda',
      quant: { bits: 4, groupSize: 128, symmetric: false, actOrder: true, quantizer: 'gptq' },
    });
    expect(() => checkRecipe(recipeOf(q, 'causal-lm').recipe, 'causal-lm')).not.toThrow();
    // Unquantized, the recipe is as before quantization came to the page (the curves' keys stay).
    expect(recipeOf(c, 'causal-lm').recipe).not.toHaveProperty('quant');
    expect(recipeOf({ ...q, granularity: 'nm' }, 'causal-lm').recipe).toMatchObject({ quant: { bits: 4 } });
    expect(recipeOf({ ...q, granularity: 'heads' }, 'causal-lm').recipe).not.toHaveProperty('quant');
    expect(recipeOf({ ...c, allocation: 'evopress', evoSteps: 80 }, 'causal-lm').recipe).toMatchObject({
      allocation: 'evopress',
      evopress: { steps: 80 },
    });
    expect(recipeOf({ ...c, allocation: 'evopress' }, 'causal-lm').recipe).not.toHaveProperty('owl');
    expect(recipeOf({ ...c, allocation: 'sensitivity' }, 'causal-lm').recipe).not.toHaveProperty('sensitivity');
  });

  it('explicit per-layer values send the uniform allocation', () => {
    const c = { ...defaultShareState(), allocation: 'owl' as const, layerSparsity: [0.2, 0.4, 0.6, 0.8] };
    expect(recipeOf(c, 'image-classifier')).toMatchObject({
      recipe: { allocation: 'uniform', blockSparsity: c.layerSparsity },
    });
    expect(recipeOf(c, 'image-classifier').recipe).not.toHaveProperty('owl');
  });

  it('are never refused by the catalogue, for any configuration the store holds', () => {
    const { store } = pruningStore();
    const patches: Partial<ShareState>[] = [
      { method: 'sparsegpt', scope: 'global' },
      { allocation: 'owl', scope: 'global' },
      { scope: 'row', granularity: 'heads' },
      { method: 'wanda', calibMode: 'one-shot' },
      { calibMode: 'one-shot', method: 'magnitude' },
      { granularity: 'nm', scope: 'row', allocation: 'sensitivity' },
      { granularity: 'tokens', score: 'column-sum' },
      { layerSparsity: [0.1, 0.2, 0.3, 0.4], allocation: 'owl' },
    ];
    for (const [kind, family] of [
      ['vit', 'image-classifier'],
      ['gpt2', 'causal-lm'],
    ] as const) {
      store.setState({ model: { ...vit, summary: { ...vit.summary, kind, family } } });
      for (const patch of patches) {
        store.setState({ config: defaultShareState() });
        for (const [k, v] of Object.entries(patch)) store.getState().setConfig({ [k]: v });
        const r = recipeOf(store.getState().config, family, 0.5);
        expect(() => checkRecipe(r.recipe, family), JSON.stringify(patch)).not.toThrow();
      }
    }
  });

  it('curves: one per recipe but its amount, labelled by what differs from the defaults', () => {
    const c = { ...defaultShareState(), method: 'wanda' as const, sparsity: 0.4 };
    expect(curveOf(c, 'image-classifier').label).toBe('wanda');
    expect(curveOf({ ...c, sparsity: 0.7 }, 'image-classifier').key).toBe(curveOf(c, 'image-classifier').key);
    expect(curveOf({ ...c, scope: 'row' }, 'image-classifier').key).toBe(curveOf(c, 'image-classifier').key);
    expect(curveOf({ ...c, allocation: 'owl' }, 'image-classifier').label).toBe('wanda · owl');
    expect(curveOf({ ...c, calibMode: 'sequential' }, 'image-classifier').key).not.toBe(
      curveOf(c, 'image-classifier').key,
    );
    expect(curveOf({ ...c, granularity: 'nm' }, 'image-classifier').label).toBe('wanda · 2:4');
    expect(curveOf({ ...c, granularity: 'heads', score: 'entropy' }, 'image-classifier').label).toBe('heads · entropy');
    const q = { ...c, bits: 4 as const, groupSize: 128 as const };
    expect(curveOf(q, 'image-classifier').label).toBe('wanda · 4-bit g128');
    expect(curveOf({ ...q, bits: 3 }, 'image-classifier').key).not.toBe(curveOf(q, 'image-classifier').key);
    expect(
      curveOf({ ...q, groupSize: 0, quantizer: 'gptq', symmetric: true, actOrder: true }, 'image-classifier').label,
    ).toBe('wanda · 4-bit gptq sym act-order');
  });
});

describe('configuration slice', () => {
  it('a new slider value cancels the prune still running; only the latest result shows', async () => {
    const { store, jobs } = pruningStore();
    store.setState({ config: { ...defaultShareState(), sparsity: 0.3 } });
    store.getState().prune();
    store.setState({ config: { ...defaultShareState(), sparsity: 0.5 } });
    store.getState().prune();
    expect(jobs[0].cancelled()).toBe(true);
    jobs[0].resolve(report(0.1));
    jobs[1].resolve(report(0.8));
    await flush();
    const cur = store.getState().current;
    expect(cur.status === 'done' && cur.value.point.metric).toBe(0.8);
  });

  it('Cancel stops the prune in flight and says so; a cancel by the worker does not', async () => {
    const { store, jobs } = pruningStore();
    store.setState({ config: { ...defaultShareState(), method: 'sparsegpt', sparsity: 0.5 } });
    store.getState().prune();
    store.getState().cancelPrune();
    await flush();
    expect(store.getState().current.status).toBe('cancelled');
    store.getState().prune();
    expect(store.getState().current.status).toBe('running');
    jobs[1].reject(abortError());
    await flush();
    expect(store.getState().current.status).toBe('idle');
  });

  it('a slider step prunes at once; the steps within 120 ms of it are one prune at the end of them', () => {
    vi.useFakeTimers();
    try {
      const { store, asked } = pruningStore();
      store.getState().setConfig({ sparsity: 0.05 });
      for (const sparsity of [0.1, 0.15]) {
        vi.advanceTimersByTime(50);
        store.getState().setConfig({ sparsity });
      }
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatchObject({ recipe: { sparsity: 0.05 } });
      vi.advanceTimersByTime(20);
      expect(asked).toHaveLength(2);
      expect(asked[1]).toMatchObject({ recipe: { sparsity: 0.15 } });
      // The window after that last prune passes with nothing asked: no call.
      vi.runAllTimers();
      expect(asked).toHaveLength(2);
      // Changing nothing that is pruned (the chart's axis) prunes nothing, per-layer values or not.
      store.getState().setConfig({ axis: 'bytes' });
      vi.runAllTimers();
      store.getState().setConfig({ layerSparsity: [0.1, 0.2, 0.3, 0.4] });
      vi.runAllTimers();
      store.getState().setConfig({ axis: 'params' });
      vi.runAllTimers();
      expect(asked).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('dispose clears the pending prune and cancels the jobs; nothing starts after it', () => {
    vi.useFakeTimers();
    try {
      const { store, jobs, asked } = pruningStore();
      store.getState().setConfig({ sparsity: 0.5 });
      store.getState().setConfig({ sparsity: 0.6 });
      store.getState().dispose();
      expect(vi.getTimerCount()).toBe(0);
      expect(jobs[0].cancelled()).toBe(true);
      vi.runAllTimers();
      store.getState().prune();
      expect(asked).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an earlier choice puts the later ones it rules out back to their defaults', () => {
    const { store } = pruningStore();
    store.getState().setConfig({ method: 'wanda', scope: 'layer', allocation: 'owl', calibMode: 'sequential' });
    expect(store.getState().config).toMatchObject({ scope: 'layer', allocation: 'owl', calibMode: 'sequential' });
    // A global ranking rules out the per-block allocation and block-by-block calibration.
    store.getState().setConfig({ scope: 'global' });
    expect(store.getState().config).toMatchObject({ scope: 'global', allocation: 'uniform', calibMode: 'default' });
    store.getState().setConfig({ calibMode: 'one-shot' });
    store.getState().setConfig({ method: 'sparsegpt' });
    expect(store.getState().config).toMatchObject({ scope: 'default', calibMode: 'one-shot' });
    store.getState().setConfig({ method: 'magnitude' });
    expect(store.getState().config.calibMode).toBe('default');
    store.getState().setConfig({ granularity: 'heads', score: 'entropy', scope: 'global' });
    store.getState().setConfig({ granularity: 'blocks' });
    expect(store.getState().config).toMatchObject({ score: 'default', scope: 'default' });
  });

  it('a score the loaded model’s family does not have goes back to the default, with a notice', () => {
    const { store, asked } = pruningStore();
    store.setState({ config: { ...defaultShareState(), granularity: 'tokens', score: 'column-sum', tokenKeep: 0.5 } });
    store.getState().prune();
    expect(store.getState().config.score).toBe('default');
    expect(store.getState().notice?.message).toMatch(/“accumulated attention” does not apply to image models/);
    expect(asked[0]).toMatchObject({ recipe: { granularity: 'tokens', score: 'cls' } });
  });

  it('the link wins over the browser’s storage; a bad link gives a message and the defaults', () => {
    const storage = memoryStorage();
    const curve = {
      key: 'k',
      label: 'taylor',
      model: 'vit-fashion',
      status: 'done',
      points: [{ amount: 0.5, metric: 0.8, flops: 1, params: 1, bytes: 1, bits: 32 }],
    };
    storage.setItem(
      STORAGE_KEY,
      JSON.stringify({ state: { config: { ...defaultShareState(), method: 'taylor' }, curves: [curve] }, version: 0 }),
    );
    const a = testStore({ engine: () => ({}) as EngineClient, storage });
    a.getState().init('');
    expect(a.getState().config.method).toBe('taylor');
    expect(a.getState().curves).toEqual([curve]);
    const b = testStore({ engine: () => ({}) as EngineClient, storage });
    b.getState().init(encodeShareState({ ...defaultShareState(), method: 'sparsegpt' }));
    expect(b.getState().config.method).toBe('sparsegpt');
    expect(b.getState().curves).toHaveLength(1);
    const c = testStore({ engine: () => ({}) as EngineClient, storage });
    c.getState().init('#v1.xyz');
    expect(c.getState().config).toEqual(defaultShareState());
    expect(c.getState().linkMessage).toMatch(/default configuration/);
  });

  it('a quantization alone is measured, at 0% sparsity; unquantized 0% is the dense model', () => {
    const { store, asked } = pruningStore();
    store.setState({ config: defaultShareState() });
    store.getState().prune();
    expect(asked).toHaveLength(0);
    store.setState({ config: { ...defaultShareState(), bits: 4 } });
    store.getState().prune();
    expect(asked[0]).toMatchObject({ recipe: { sparsity: 0, quant: { bits: 4, quantizer: 'rtn' } } });
  });

  it('shows the search’s best split while it runs, and keeps the last with the result', async () => {
    const { store, jobs, progress } = pruningStore();
    store.setState({ config: { ...defaultShareState(), method: 'wanda', allocation: 'evopress', sparsity: 0.5 } });
    store.getState().prune();
    const search = {
      generation: 3,
      generations: 20,
      fitness: 0.012,
      blockSparsity: [0.4, 0.6, 0.5, 0.5],
      evaluations: 24,
    };
    progress[0]({ label: 'Searching', fraction: 0.15, search });
    const searching = store.getState().current;
    expect(searching.status === 'running' && searching.progress.search).toEqual(search);
    progress[0]({ label: 'Evaluating', fraction: 0.5 });
    const measuring = store.getState().current;
    expect(measuring.status === 'running' && measuring.progress).not.toHaveProperty('search');
    jobs[0].resolve(report(0.7));
    await flush();
    const done = store.getState().current;
    expect(done.status === 'done' && done.value.search).toEqual(search);
  });
});

describe('points', () => {
  it('take the size as stored and the bits of the report; the dense model is 32-bit', () => {
    const quantized = {
      ...report(0.7),
      recipe: { method: 'magnitude', quant: { bits: 4 } },
    } as unknown as WorkbenchReport;
    expect(pointOf(quantized, 0.5)).toEqual({ amount: 0.5, metric: 0.7, flops: 10, params: 5, bytes: 12, bits: 4 });
    expect(pointOf(report(0.7), 0.5)).toMatchObject({ bytes: 12, bits: 32 });
    const summary = { cost: { flops: 100, params: 50 } } as unknown as LoadedModel['summary'];
    expect(densePoint(summary, { kind: 'classifier', accuracy: 0.9 } as never)).toEqual({
      amount: 0,
      metric: 0.9,
      flops: 100,
      params: 50,
      bytes: 200,
      bits: 32,
    });
  });

  it('kept before quantization came to the page are 32-bit', () => {
    const old = { amount: 0.3, metric: 0.8, flops: 1, params: 1, bytes: 4 };
    const { curves } = restoredOf({
      curves: [
        { key: 'k', label: 'magnitude', model: 'vit-fashion', status: 'done', points: [old, { ...old, bits: 4 }] },
      ],
    });
    expect(curves?.[0].points.map((p) => p.bits)).toEqual([32, 4]);
  });
});
