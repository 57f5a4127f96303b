// Recovery on a tiny GPT-2 session: the metric comes back, the mask holds in what is handed back,
// LoRA touches only its linears, a cancelled run keeps what it had, and a bad request is refused.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Pruner } from './pruner';
import { verseSession } from './test-session';
import { headlineOf } from './headline';
import { type RecoveryRequest, recoverPruned, resolveRecovery } from './recovery';

const session = verseSession();
const recipe = { method: 'magnitude' as const, sparsity: 0.6 };
const request = (over: Partial<RecoveryRequest>): RecoveryRequest => ({
  mode: 'finetune',
  steps: 12,
  learningRate: 3e-3,
  batchSize: 2,
  seed: 1,
  data: { source: 'train' },
  ...over,
});

async function pruned(pruner: Pruner) {
  return (await pruner.prune(recipe)).result;
}

describe('recoverPruned', () => {
  it('masked fine-tuning lowers the held-out loss and keeps every removed weight at zero', async () => {
    const before = tf.memory().numTensors;
    const pruner = new Pruner(session);
    const result = await pruned(pruner);
    const { report, weights, adapters } = await recoverPruned(pruner, { result }, recipe, request({ evalEvery: 6 }));
    expect(adapters).toBeNull();
    expect(headlineOf(report.after)).toBeLessThan(headlineOf(report.before));
    expect(report.metricCurve.map((p) => p.step)).toEqual([0, 6, 12]);
    expect(report.lossCurve).toHaveLength(12);
    expect(report.recovery).toMatchObject({ mode: 'finetune', warmupSteps: 1, data: 'train' });
    for (const [name, mask] of result.masks) {
      const w = weights.get(name)!.data;
      const kept = mask.reduce((a, m) => a + m, 0);
      expect(
        mask.every((m, i) => m === 1 || w[i] === 0),
        name,
      ).toBe(true);
      // Trained: some kept weight moved.
      expect(kept).toBeGreaterThan(0);
      expect(
        w.some((v, i) => mask[i] === 1 && v !== session.checkpoint.weights.get(name)!.data[i]),
        name,
      ).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('LoRA changes only the adapted linears, keeps their zeros, and hands back adapters of rank r', async () => {
    const pruner = new Pruner(session);
    const result = await pruned(pruner);
    const { report, weights, adapters } = await recoverPruned(
      pruner,
      { result },
      recipe,
      request({ mode: 'lora', rank: 2, learningRate: 1e-2 }),
    );
    expect(report.recovery).toMatchObject({ mode: 'lora', rank: 2, alpha: 4 });
    expect([...adapters!.layers.keys()].sort()).toEqual([...result.masks.keys()].sort());
    for (const { a, b } of adapters!.layers.values()) {
      expect(a.shape[0]).toBe(2);
      expect(b.shape[1]).toBe(2);
    }
    for (const [name, host] of session.checkpoint.weights) {
      const mask = result.masks.get(name);
      const w = weights.get(name)!.data;
      if (!mask) expect(w, name).toEqual(host.data);
      else
        expect(
          mask.every((m, i) => m === 1 || w[i] === 0),
          name,
        ).toBe(true);
    }
  });

  it('distillation from the dense model runs on the calibration data', async () => {
    const pruner = new Pruner(session);
    const result = await pruned(pruner);
    const calibration = { source: 'train' as const, count: 4, seed: 2 };
    const { report } = await recoverPruned(
      pruner,
      { result },
      { ...recipe, calibration },
      request({ mode: 'distill', data: { source: 'calibration' }, steps: 4 }),
    );
    expect(report.recovery).toMatchObject({ mode: 'distill', temperature: 2, hiddenWeight: 0, data: 'calibration' });
    expect(report.data).toMatch(/4 windows/);
    // 4 updates of 2 over 4 windows: twice over them.
    expect(report).toMatchObject({ examples: 4, passes: 2 });
    expect(report.lossCurve.every((p) => Number.isFinite(p.value) && p.value >= 0)).toBe(true);
  });

  it('a cancelled run hands back the best weights it measured', async () => {
    const pruner = new Pruner(session);
    const result = await pruned(pruner);
    const controller = new AbortController();
    const { report } = await recoverPruned(pruner, { result }, recipe, request({ steps: 40, evalEvery: 2 }), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.kind === 'metric' && p.step === 4) controller.abort();
      },
    });
    expect(report.aborted).toBe(true);
    expect(report.stepsDone).toBeLessThan(40);
    const best = report.metricCurve.reduce((a, p) => (p.value < a.value ? p : a));
    expect(report.step).toBe(best.step);
    expect(headlineOf(report.after)).toBe(best.value);
  });

  it('refuses what it cannot train, in words', async () => {
    const pruner = new Pruner(session);
    const plan = { masks: {}, tokenKeep: [1, 0.5], summary: '' };
    await expect(recoverPruned(pruner, { plan }, recipe, request({}))).rejects.toThrow(/token pruning/);
    const result = await pruned(pruner);
    await expect(
      recoverPruned(
        pruner,
        { result },
        recipe,
        request({ data: { source: 'custom', set: { kind: 'images' } as never, name: 'x.safetensors' } }),
      ),
    ).rejects.toThrow(/x\.safetensors is images; this model reads text/);
  });

  it('fills in the defaults a request leaves out', () => {
    expect(resolveRecovery({ mode: 'lora', steps: 100, batchSize: 8, seed: 0, data: { source: 'train' } })).toEqual({
      mode: 'lora',
      steps: 100,
      learningRate: 1e-3,
      warmupSteps: 10,
      batchSize: 8,
      seed: 0,
      evalEvery: 0,
      logEvery: 10,
      rank: 8,
      alpha: 16,
      targets: undefined,
      distill: false,
      data: 'train',
    });
  });
});
