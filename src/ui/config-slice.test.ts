import { describe, expect, it } from 'vitest';
import { abortError, type EngineClient, type WorkbenchReport } from '../workers/client';
import { manualJob } from './manual-job';
import { amountOf, createWorkbenchStore, curveOf, recipeOf, STORAGE_KEY } from './store';
import { paretoFront } from './components/TradeoffChart';
import { defaultShareState, encodeShareState } from './share';

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

const report = (accuracy: number) =>
  ({
    metric: { kind: 'classifier', accuracy, loss: 0, count: 1 },
    flops: 10,
    nonzeroParams: 5,
    bytes: { dense: 40, sparse: 20, nm24: null },
  }) as unknown as WorkbenchReport;

describe('configuration slice', () => {
  it('builds recipes from the configuration', () => {
    const c = { ...defaultShareState(), method: 'wanda' as const, sparsity: 0.4 };
    expect(recipeOf(c)).toMatchObject({
      kind: 'unstructured',
      recipe: { method: 'wanda', sparsity: 0.4, nm: null, calibration: { source: 'train', count: 128 } },
    });
    expect(recipeOf({ ...c, granularity: 'nm' })).toMatchObject({ recipe: { sparsity: 0.5, nm: { n: 2, m: 4 } } });
    expect(recipeOf({ ...c, granularity: 'heads', score: 'entropy' })).toMatchObject({
      kind: 'structured',
      recipe: { granularity: 'heads', amount: 0.4, score: 'entropy' },
    });
    expect(amountOf({ ...c, granularity: 'tokens', tokenKeep: 0.75 })).toBe(0.25);
    expect(curveOf(c).label).toBe('wanda');
  });

  it('a new slider value cancels the prune still running; only the latest result shows', async () => {
    const jobs: ReturnType<typeof manualJob<WorkbenchReport>>[] = [];
    const engine = { prune: () => jobs[jobs.push(manualJob<WorkbenchReport>()) - 1].job } as unknown as EngineClient;
    const store = createWorkbenchStore({ engine: () => engine, storage: memoryStorage(), loadCatalog: async () => [] });
    store.setState({ config: { ...defaultShareState(), sparsity: 0.3 } });
    store.getState().prune();
    store.setState({ config: { ...defaultShareState(), sparsity: 0.5 } });
    store.getState().prune();
    jobs[0].resolve(report(0.1));
    jobs[1].resolve(report(0.8));
    await new Promise((r) => setTimeout(r, 0));
    const cur = store.getState().current;
    expect(cur.status === 'done' && cur.point.metric).toBe(0.8);
  });

  it('Cancel stops the prune in flight and says so; a cancel by a newer value does not', async () => {
    const jobs: ReturnType<typeof manualJob<WorkbenchReport>>[] = [];
    const engine = { prune: () => jobs[jobs.push(manualJob<WorkbenchReport>()) - 1].job } as unknown as EngineClient;
    const store = createWorkbenchStore({ engine: () => engine, storage: memoryStorage(), loadCatalog: async () => [] });
    store.setState({ config: { ...defaultShareState(), method: 'sparsegpt', sparsity: 0.5 } });
    store.getState().prune();
    store.getState().cancelPrune();
    await new Promise((r) => setTimeout(r, 0));
    expect(store.getState().current.status).toBe('cancelled');
    store.getState().prune();
    expect(store.getState().current.status).toBe('running');
    jobs[1].reject(abortError());
    await new Promise((r) => setTimeout(r, 0));
    expect(store.getState().current.status).toBe('idle');
  });

  it('restores from the link first, else from storage; a bad link gives a message and defaults', () => {
    const storage = memoryStorage();
    storage.setItem(
      STORAGE_KEY,
      JSON.stringify({
        config: { ...defaultShareState(), method: 'taylor' },
        curves: [
          {
            key: 'k',
            label: 'taylor',
            model: 'vit-fashion',
            status: 'done',
            points: [{ amount: 0.5, metric: 0.8, flops: 1, params: 1, bytes: 1 }],
          },
        ],
      }),
    );
    const a = createWorkbenchStore({ engine: () => ({}) as EngineClient, storage, loadCatalog: async () => [] });
    a.getState().init('');
    expect(a.getState().config.method).toBe('taylor');
    expect(a.getState().curves).toHaveLength(1);
    const b = createWorkbenchStore({ engine: () => ({}) as EngineClient, storage, loadCatalog: async () => [] });
    b.getState().init(encodeShareState({ ...defaultShareState(), method: 'sparsegpt' }));
    expect(b.getState().config.method).toBe('sparsegpt');
    const c = createWorkbenchStore({ engine: () => ({}) as EngineClient, storage, loadCatalog: async () => [] });
    c.getState().init('#v1.xyz');
    expect(c.getState().config).toEqual(defaultShareState());
    expect(c.getState().linkMessage).toMatch(/default configuration/);
  });

  it('the Pareto front keeps the undominated points', () => {
    const p = (flops: number, metric: number) => ({ amount: 0, metric, flops, params: 0, bytes: 0 });
    const front = paretoFront([p(1, 0.5), p(2, 0.4), p(3, 0.9), p(4, 0.8)], 'flops', true);
    expect(front.map((x) => x.flops)).toEqual([1, 3]);
  });
});
