// The device slice with a fake worker: a lost GPU device, the worker's recovery, and what the page
// measures again after it.
import { afterEach, describe, expect, it } from 'vitest';
import {
  abortError,
  type BackendInfo,
  type DeviceEvent,
  type EngineClient,
  type Job,
  type Metrics,
  type WorkbenchRecipe,
} from '../workers/client';
import { defaultShareState } from './share';
import { disposeTestStores, flush, manualJob, testStore } from './test-store';

afterEach(disposeTestStores);

const pending = <T>(): Job<T> => ({ id: 1, result: new Promise<T>(() => {}), cancel() {} });
const webgpu: BackendInfo = { name: 'webgpu', adapter: 'google swiftshader', fallbackReason: null };

/** A worker that records the calls the page makes and lets the test send device events. */
function fakeEngine() {
  const calls = { prune: [] as WorkbenchRecipe[], evaluate: 0, lose: 0 };
  const evaluations: ReturnType<typeof manualJob<Metrics>>[] = [];
  let listener: ((e: DeviceEvent) => void) | null = null;
  const engine = {
    watchDevice: async (l: (e: DeviceEvent) => void) => {
      listener = l;
    },
    debugLoseDevice: async () => {
      calls.lose++;
      return true;
    },
    prune: (recipe: WorkbenchRecipe) => {
      calls.prune.push(recipe);
      return pending();
    },
    evaluate: () => {
      calls.evaluate++;
      return evaluations[evaluations.push(manualJob<Metrics>()) - 1].job;
    },
  } as unknown as EngineClient;
  return { engine, calls, evaluations, emit: (e: DeviceEvent) => listener!(e) };
}

const curve = {
  key: 'k',
  label: 'magnitude',
  model: 'vit-fashion',
  status: 'done' as const,
  points: [{ amount: 0.3, metric: 0.8, flops: 1, params: 1, bytes: 1, bits: 32 }],
};

describe('device slice', () => {
  it('shows a lost device, then its recovery, and measures again what the loss stopped; configuration and curves stay', async () => {
    const { engine, calls, evaluations, emit } = fakeEngine();
    const store = testStore({ engine: () => engine });
    const config = { ...defaultShareState(), sparsity: 0.5 };
    const summary = { kind: 'vit', layers: 4, evalSet: { kind: 'images', count: 1000 } };
    store.setState({ config, curves: [curve], model: { key: 1, summary } as never });
    void store.getState().evaluate();
    store.getState().watchDevice();
    store.getState().watchDevice(); // once only
    await Promise.resolve();

    emit({ kind: 'lost', message: 'the device was destroyed' });
    expect(store.getState().device).toEqual({ status: 'lost', message: 'the device was destroyed' });
    expect(calls.prune).toHaveLength(0);
    // The worker stops the measurement on the lost device: no error is left.
    evaluations[0].reject(abortError());
    await flush();
    expect(store.getState().evaluation.status).toBe('idle');

    emit({ kind: 'recovered', message: 'the device was destroyed', backend: webgpu });
    expect(store.getState().device.status).toBe('recovered');
    expect(store.getState().backend).toEqual(webgpu);
    expect(calls.prune).toHaveLength(1);
    expect(calls.prune[0]).toMatchObject({ kind: 'unstructured', recipe: { sparsity: 0.5 } });
    expect(calls.evaluate).toBe(2);
    expect(store.getState().evaluation.status).toBe('running');
    expect(store.getState().config).toEqual(config);
    expect(store.getState().curves).toEqual([curve]);
  });

  it('a baseline measured or cancelled before the loss is not measured again; a failed recovery says so', async () => {
    const { engine, calls, emit } = fakeEngine();
    const store = testStore({ engine: () => engine });
    const metrics = { kind: 'classifier', accuracy: 0.9, loss: 0.3, count: 1000 } as Metrics;
    store.setState({
      config: { ...defaultShareState(), sparsity: 0.2 },
      model: {
        key: 1,
        summary: { kind: 'vit', family: 'image-classifier', layers: 4, evalSet: { kind: 'images', count: 1000 } },
      } as never,
      evaluation: { status: 'done', key: '1', value: metrics },
    });
    store.getState().watchDevice();
    await Promise.resolve();
    emit({ kind: 'lost', message: 'lost' });
    emit({ kind: 'recovered', message: 'lost', backend: webgpu });
    expect(calls.evaluate).toBe(0);
    expect(calls.prune).toHaveLength(1);
    store.setState({ evaluation: { status: 'cancelled', key: '1', last: null } });
    emit({ kind: 'lost', message: 'lost again' });
    emit({ kind: 'recovered', message: 'lost again', backend: webgpu });
    expect(calls.evaluate).toBe(0);
    emit({ kind: 'failed', message: 'lost; recovering failed: no adapter' });
    expect(store.getState().device).toEqual({ status: 'failed', message: 'lost; recovering failed: no adapter' });
  });
});
