// The store's persistence (zustand's persist): the configuration and the curves are kept, read back
// as strictly as a link, corrupt or stale storage gives the defaults, and a full or blocked storage
// never breaks the page.
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineClient } from '../workers/client';
import { defaultShareState } from './share';
import { STORAGE_KEY } from './store';
import { disposeTestStores, memoryStorage, testStore } from './test-store';

afterEach(disposeTestStores);

const engine = () => ({}) as EngineClient;
const point = { amount: 0.3, metric: 0.8, flops: 1, params: 2, bytes: 3, bits: 32 };
const curve = { key: 'k', label: 'wanda', model: 'vit-fashion', points: [point], status: 'done' };

function stored(value: unknown) {
  const storage = memoryStorage();
  storage.setItem(STORAGE_KEY, typeof value === 'string' ? value : JSON.stringify(value));
  return storage;
}

describe('persistence', () => {
  it('keeps the configuration and the curves with points, and reads them back', () => {
    const storage = memoryStorage();
    const a = testStore({ engine, storage });
    a.getState().setConfig({ method: 'wanda', calibMode: 'sequential', sparsity: 0.4 });
    a.setState({ curves: [curve as never, { ...curve, key: 'empty', points: [], status: 'running' }] });
    const kept = JSON.parse(storage.getItem(STORAGE_KEY)!);
    expect(Object.keys(kept.state)).toEqual(['config', 'curves']);
    expect(kept.state.curves).toHaveLength(1);

    const b = testStore({ engine, storage });
    expect(b.getState().config).toEqual(a.getState().config);
    expect(b.getState().curves).toEqual([curve]);
  });

  it('a sweep cut short by a reload comes back as a done curve of its well-formed points', () => {
    const bad = { ...point, metric: 'NaN' };
    const s = testStore({
      engine,
      storage: stored({
        state: { config: defaultShareState(), curves: [{ ...curve, status: 'running', points: [point, bad] }] },
      }),
    });
    expect(s.getState().curves).toEqual([curve]);
  });

  it('keeps what a page before the persist middleware stored: its configuration, its curves, its scope’s meaning', () => {
    const earlier = {
      config: { ...defaultShareState(), method: 'wanda', scope: 'layer', sparsity: 0.4 },
      curves: [curve],
    };
    const s = testStore({ engine, storage: stored(JSON.stringify(earlier)) });
    expect(s.getState().config).toEqual({ ...defaultShareState(), method: 'wanda', scope: 'default', sparsity: 0.4 });
    expect(s.getState().curves).toEqual([curve]);
    const global = { config: { ...defaultShareState(), scope: 'global' }, curves: [] };
    expect(testStore({ engine, storage: stored(JSON.stringify(global)) }).getState().config.scope).toBe('global');
  });

  it('corrupt, stale or refused storage gives the defaults, never an error', () => {
    const cases = [
      '{"state": {"config": ',
      'not json',
      { state: { config: { ...defaultShareState(), method: 'obd' } } },
      { state: { config: { ...defaultShareState(), retired: true } } },
      { state: { config: { ...defaultShareState(), method: 'sparsegpt', scope: 'global' } } },
      { state: null },
      { state: { config: 7, curves: 'x' } },
    ];
    for (const value of cases) {
      const s = testStore({ engine, storage: stored(value) });
      expect(s.getState().config, JSON.stringify(value)).toEqual(defaultShareState());
      expect(s.getState().curves).toEqual([]);
    }
  });

  it('writes only when what is kept changed, and a storage that throws does not stop the page', () => {
    let writes = 0;
    const storage = {
      getItem: () => null,
      setItem: () => {
        writes++;
        throw new DOMException('full', 'QuotaExceededError');
      },
      removeItem: () => {},
    };
    const s = testStore({ engine, storage });
    s.getState().setConfig({ sparsity: 0.2 });
    const after = writes;
    s.setState({ linkMessage: 'x' });
    s.setState({ linkMessage: null });
    expect(writes).toBe(after);
    s.getState().setConfig({ sparsity: 0.3 });
    expect(writes).toBe(after + 1);
    expect(s.getState().config.sparsity).toBe(0.3);
  });
});
