// Prune-and-measure on a tiny GPT-2 session: reports, allocations, sweeps and cancellation.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Pruner, type PruneRecipe, type SearchProgress } from './pruner';
import { ModelSession } from '../session';
import { serializeWeights } from '../model/checkpoint';
import { byteLevelTokenizerJson } from '../model/tokenizer';
import { randomHostWeights, tinyGpt2, TINY_GPT2_CONFIG } from '../model/tiny-models';
import { writeSafetensors } from '../io/safetensors';
import { prunableLinears } from '../pruning/unstructured';

const config = { ...TINY_GPT2_CONFIG, vocab_size: 256 };
const text = (s: string) => {
  const bytes = new TextEncoder().encode(s);
  return writeSafetensors({ bytes: { dtype: 'U8', shape: [bytes.length], data: bytes } });
};
const session = ModelSession.open({
  config,
  weights: serializeWeights(randomHostWeights({ ...tinyGpt2(), vocabSize: 256 }, 9)),
  tokenizer: byteLevelTokenizerJson(),
  evalSet: text('And God said, Let there be light: and there was light. '.repeat(4)),
  calibSet: text('In the beginning God created the heaven and the earth. '.repeat(6)),
});
const calibration = { source: 'train' as const, count: 4, seed: 1 };
const prunable = prunableLinears(session.config).reduce((a, s) => a + s.inFeatures * s.outFeatures, 0);

describe('Pruner', () => {
  it('reports metric, parameters, FLOPs, sizes and times for one recipe', async () => {
    const pruner = new Pruner(session);
    const r = await pruner.measure({ method: 'magnitude', sparsity: 0.5 });
    expect(r.sparsity).toBeCloseTo(0.5, 6);
    expect(r.params - r.nonzeroParams).toBe(prunable / 2);
    expect(r.flops).toBeLessThan(r.denseFlops);
    expect(r.bytes.dense).toBe(4 * r.params);
    expect(r.bytes.sparse).toBeLessThan(r.bytes.dense);
    expect(r.bytes.nm24).toBeNull();
    expect(r.metric.kind).toBe('lm');
    expect(r.calibration).toBeNull();
    expect(r.timeMs.prune).toBeGreaterThanOrEqual(0);
    const nm = await pruner.measure({ method: 'wanda', sparsity: 0.5, nm: { n: 2, m: 4 }, calibration });
    expect(nm.bytes.nm24).not.toBeNull();
    // Kept values (half, f32) plus a 2-bit index each (gpu/nm24.ts's format); everything else dense.
    expect(nm.bytes.nm24).toBe(4 * (nm.params - prunable) + 2 * prunable + prunable / 8);
    expect(nm.calibration).toMatch(/4 windows/);
  });

  it('times the first running estimate when one is asked for, from the start of measuring', async () => {
    const pruner = new Pruner(session);
    const quiet = await pruner.measure({ method: 'magnitude', sparsity: 0.5 });
    expect(quiet.timeMs.firstEstimate).toBeNull();
    const heard: number[] = [];
    const evaluation = { batchSize: 1, onPartial: () => heard.push(performance.now()) };
    const started = performance.now();
    const r = await pruner.measure({ method: 'magnitude', sparsity: 0.5 }, { evaluation });
    expect(heard.length).toBeGreaterThan(1);
    const first = r.timeMs.firstEstimate!;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(r.timeMs.evaluate);
    // Measured from the start of measuring: no earlier than pruning's end, no later than it was heard.
    expect(started + r.timeMs.calibration + r.timeMs.prune + first).toBeLessThanOrEqual(heard[0]! + 1);
    const s = await pruner.measureStructured({ granularity: 'heads', amount: 0.5, calibration }, { evaluation });
    expect(s.timeMs.firstEstimate).toBeGreaterThan(0);
    expect(s.timeMs.firstEstimate).toBeLessThanOrEqual(s.timeMs.evaluate);
  });

  it('pruning at 0% changes nothing', async () => {
    const r = await new Pruner(session).measure({ method: 'magnitude', sparsity: 0 });
    const dense = await session.evaluate();
    expect(r.metric).toEqual(dense);
  });

  it('OWL and sensitivity allocations differ across blocks and meet the target on average', async () => {
    const pruner = new Pruner(session);
    for (const allocation of ['owl', 'sensitivity'] as const) {
      const r = await pruner.measure({ method: 'wanda', sparsity: 0.5, allocation, calibration });
      const mean = r.blockSparsity.reduce((a, v) => a + v, 0) / r.blockSparsity.length;
      expect(mean, allocation).toBeCloseTo(0.5, 2); // the tiny model's blocks are of equal size
      expect(r.sparsity, allocation).toBeCloseTo(0.5, 1);
    }
  });

  it('EvoPress streams its best split each generation, keeps the total, and resumes a cancelled search', async () => {
    const recipe: PruneRecipe = {
      method: 'wanda',
      sparsity: 0.5,
      allocation: 'evopress',
      evopress: { steps: 4 },
      calibration: { ...calibration, count: 8 },
    };
    const heard: SearchProgress[] = [];
    const whole = await new Pruner(session).measure(recipe, { onSearch: (p) => heard.push(p) });
    expect(heard.map((p) => p.generation)).toEqual([0, 1, 2, 3, 4]);
    // The parent competes: the best split's divergence never rises.
    for (let i = 1; i < heard.length; i++) expect(heard[i].fitness).toBeLessThanOrEqual(heard[i - 1].fitness);
    expect(whole.targetBlockSparsity).toEqual(heard.at(-1)!.blockSparsity);
    // Equal blocks: the split keeps the total (what each row then keeps is rounded to whole weights).
    const split = whole.targetBlockSparsity!;
    expect(split.reduce((a, v) => a + v, 0) / split.length).toBeCloseTo(0.5, 9);
    expect(split.some((v) => v !== 0.5)).toBe(true);

    // Cancelled after its second generation, the search goes on from there when asked again.
    const pruner = new Pruner(session);
    const stop = new AbortController();
    const first: SearchProgress[] = [];
    await expect(
      pruner.measure(recipe, {
        signal: stop.signal,
        onSearch: (p) => {
          first.push(p);
          if (p.generation === 2) stop.abort();
        },
      }),
    ).rejects.toThrow();
    const rest: SearchProgress[] = [];
    const resumed = await pruner.measure(recipe, { onSearch: (p) => rest.push(p) });
    expect(rest[0].generation).toBeGreaterThanOrEqual(2);
    expect(rest.at(-1)!.evaluations).toBe(heard.at(-1)!.evaluations);
    expect(resumed.targetBlockSparsity).toEqual(whole.targetBlockSparsity);
    expect(resumed.metric).toEqual(whole.metric);
  });

  it('EvoPress over linears prunes each linear at its own sparsity, the total kept', async () => {
    const recipe: PruneRecipe = {
      method: 'magnitude',
      sparsity: 0.5,
      scope: 'layer',
      allocation: 'evopress',
      evopress: { steps: 3, units: 'linears' },
      calibration,
    };
    const r = await new Pruner(session).measure(recipe);
    const specs = prunableLinears(session.config);
    const shares = r.layerSparsity.map((l) => l.sparsity);
    // Linears of one block differ: the split is not per block.
    const apart = specs.some((s, i) =>
      specs.some((o, j) => o.layer === s.layer && Math.abs(shares[i] - shares[j]) > 0.02),
    );
    expect(apart).toBe(true);
    // Per-layer selection keeps whole counts, so the total is the target within one weight a linear.
    const removed = specs.reduce((a, s, i) => a + shares[i] * s.inFeatures * s.outFeatures, 0);
    expect(Math.abs(removed - prunable / 2)).toBeLessThanOrEqual(specs.length);
    // Each block's target is the weighted mean of its linears'.
    r.targetBlockSparsity!.forEach((t, l) => {
      const mine = specs.flatMap((s, i) => (s.layer === l ? [i] : []));
      const size = mine.reduce((a, i) => a + specs[i].inFeatures * specs[i].outFeatures, 0);
      const mean = mine.reduce((a, i) => a + shares[i] * specs[i].inFeatures * specs[i].outFeatures, 0) / size;
      expect(t).toBeCloseTo(mean, 2);
    });
  });

  it('an explicit per-block sparsity replaces the global value; the reported sparsity is the one reached', async () => {
    const pruner = new Pruner(session);
    for (const method of ['magnitude', 'wanda'] as const) {
      const r = await pruner.measure({ method, sparsity: 0.1, blockSparsity: [0.8, 0.2], calibration });
      expect(r.targetBlockSparsity).toEqual([0.8, 0.2]);
      r.blockSparsity.forEach((s, i) => {
        expect(Math.abs(s - [0.8, 0.2][i])).toBeLessThan(0.02);
      });
      // Blocks are of equal size here, so what is reached is their mean.
      expect(r.sparsity, method).toBeCloseTo(0.5, 2);
      expect(r.recipe.sparsity).toBe(0.1);
    }
    const bad: [Partial<PruneRecipe>, RegExp][] = [
      [{ blockSparsity: [0.5] }, /has 1 values but the model has 2 blocks/],
      [{ blockSparsity: [0.5, 1] }, /block 2 must be from 0 to below 1, got 1/],
      [{ blockSparsity: [-0.1, 0.5] }, /block 1 must be/],
      [{ blockSparsity: [0.5, Number.NaN] }, /block 2 must be/],
      [{ blockSparsity: [0.5, 0.5], nm: { n: 2, m: 4 } }, /2:4.*per-block/],
      [{ blockSparsity: [0.5, 0.5], scope: 'global' }, /global.*per-block sparsity does not apply/],
    ];
    for (const [extra, message] of bad) {
      await expect(pruner.measure({ method: 'magnitude', sparsity: 0.5, ...extra })).rejects.toThrow(message);
    }
  });

  it('a sweep yields its points one at a time and stops when aborted', async () => {
    const pruner = new Pruner(session);
    const seen: number[] = [];
    for await (const p of pruner.sweep({ method: 'wanda', calibration }, [0.2, 0.5, 0.8])) seen.push(p.sparsity);
    expect(seen.map((s) => Math.round(s * 10) / 10)).toEqual([0.2, 0.5, 0.8]);
    const ctrl = new AbortController();
    const got: number[] = [];
    const run = async () => {
      for await (const p of pruner.sweep({ method: 'magnitude' }, [0.1, 0.2, 0.3], { signal: ctrl.signal })) {
        got.push(p.sparsity);
        ctrl.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(got).toHaveLength(1);
  });

  it('leaves no tensors behind, whether a run finishes or is aborted midway', async () => {
    const pruner = new Pruner(session);
    await pruner.measure({ method: 'sparsegpt', sparsity: 0.5, calibration }); // warm the caches
    const before = tf.memory().numTensors;
    await pruner.measure({ method: 'sparsegpt', sparsity: 0.6, calibration });
    expect(tf.memory().numTensors).toBe(before);
    for (const stage of ['pruning', 'evaluating']) {
      const ctrl = new AbortController();
      const run = pruner.measure(
        { method: 'sparsegpt', sparsity: 0.7, calibration },
        {
          signal: ctrl.signal,
          onProgress: (s) => s === stage && ctrl.abort(),
        },
      );
      await expect(run).rejects.toThrow();
      expect(tf.memory().numTensors, stage).toBe(before);
    }
  });

  it('measures every structured granularity, with fewer FLOPs than dense', async () => {
    const pruner = new Pruner(session);
    const dense = await session.evaluate();
    const cases = [
      { granularity: 'heads', amount: 0.5, score: 'taylor' },
      { granularity: 'neurons', amount: 0.5 },
      { granularity: 'blocks', amount: 0.5, score: 'influence' },
      { granularity: 'sublayers', amount: 0.25 },
      { granularity: 'tokens', amount: 0.5 },
    ] as const;
    for (const r of cases) {
      const rep = await pruner.measureStructured({ ...r, calibration });
      expect(rep.flops, r.granularity).toBeLessThan(rep.denseFlops);
      expect(rep.structure, r.granularity).toBeTruthy();
      expect(rep.metric.kind).toBe('lm');
      if (r.granularity !== 'tokens') expect(rep.metric).not.toEqual(dense);
    }
    const blocks = await pruner.measureStructured({ granularity: 'blocks', amount: 0.5, calibration });
    // One of the two blocks is gone entirely, the other untouched.
    expect([...blocks.blockSparsity].sort()).toEqual([0, 1]);
    const none = await pruner.measureStructured({ granularity: 'heads', amount: 0, calibration });
    expect(none.metric).toEqual(dense);
  });
});
