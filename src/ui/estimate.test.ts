// The running estimate in words, and the store keeping the latest one while a prune is measured.
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineClient, Job, Progress, WorkbenchRecipe } from '../workers/client';
import { describeEstimate, describeSearch, describeTimes, formatDuration } from './estimate';
import { defaultShareState } from './share';
import type { LoadedModel } from './store';
import { disposeTestStores, testStore } from './test-store';

afterEach(disposeTestStores);

const pending = <T>(): Job<T> => ({ id: 1, result: new Promise<T>(() => {}), cancel() {} });

describe('estimate wording', () => {
  it('an accuracy estimate: value, standard error and what it rests on', () => {
    const e = {
      metric: { kind: 'classifier' as const, accuracy: 0.8833, loss: 0.4, count: 120 },
      seen: 120,
      total: 1000,
      stderr: 0.0292,
    };
    expect(describeEstimate('image-classifier', e)).toEqual({
      value: '≈ 88.3% ± 2.9%',
      basis: 'estimate on 120 of 1,000 images',
    });
  });

  it('a bits-per-byte estimate, without a spread while it is undefined', () => {
    const metric = {
      kind: 'lm' as const,
      loss: 1.2,
      bitsPerByte: 1.7312,
      perplexity: 3.3,
      nextTokenAccuracy: 0.6,
      tokens: 128,
    };
    expect(describeEstimate('causal-lm', { metric, seen: 8, total: 128, stderr: 0.04123 })).toEqual({
      value: '≈ 1.731 ± 0.041',
      basis: 'estimate on 8 of 128 windows of text',
    });
    expect(describeEstimate('causal-lm', { metric, seen: 1, total: 128, stderr: Number.NaN }).value).toBe('≈ 1.731');
  });

  it('a search’s best split so far: its KL and how far the search is', () => {
    expect(
      describeSearch({ generation: 7, generations: 20, fitness: 0.04567, blockSparsity: [0.5], evaluations: 1234 }),
    ).toBe(
      'EvoPress search, generation 7 of 20: best split so far at KL 0.0457 nats per token from the dense model (1,234 splits measured)',
    );
    expect(
      describeSearch({ generation: 0, generations: 20, fitness: 0.1, blockSparsity: [0.5], evaluations: 1 }),
    ).toMatch(/generation 0 of 20: .*\(1 split measured\)$/);
  });

  it('durations in ms below a second, else seconds', () => {
    expect(formatDuration(21.6)).toBe('22 ms');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(describeTimes({ calibration: 0, prune: 22, evaluate: 1900, firstEstimate: null })).toBe(
      'calibration 0 ms · pruning 22 ms · measuring 1.9 s',
    );
    expect(describeTimes({ calibration: 0, prune: 22, evaluate: 1900, firstEstimate: 30.6 })).toBe(
      'calibration 0 ms · pruning 22 ms · measuring 1.9 s (the first estimate after 31 ms)',
    );
  });
});

describe('the store and the estimate', () => {
  it('the running estimate stays until a newer one or the result replaces it', () => {
    let onProgress: (p: Progress) => void = () => {};
    const engine = {
      prune: (_r: WorkbenchRecipe, p: (p: Progress) => void) => {
        onProgress = p;
        return pending();
      },
    } as unknown as EngineClient;
    const store = testStore({ engine: () => engine });
    const model = { key: 1, summary: { kind: 'vit', family: 'image-classifier', layers: 4 } } as LoadedModel;
    store.setState({ model, config: { ...defaultShareState(), sparsity: 0.5 } });
    store.getState().prune();
    const estimate = {
      metric: { kind: 'classifier' as const, accuracy: 0.88, loss: 0.4, count: 60 },
      seen: 60,
      total: 1000,
      stderr: 0.04,
    };
    onProgress({ label: 'Evaluating', fraction: 0.06, estimate });
    onProgress({ label: 'Evaluating', fraction: 0.07 });
    const cur = store.getState().current;
    expect(cur.status === 'running' && cur.progress.estimate).toEqual(estimate);
    store.getState().prune(); // a new value starts without an estimate
    const next = store.getState().current;
    expect(next.status === 'running' && next.progress.estimate).toBeUndefined();
  });
});
