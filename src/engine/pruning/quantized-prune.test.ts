// Pruning with quantization on tiny checkpoints: which path each quantizer takes through the block
// pass (GPTQ in SparseGPT's sweep, GPTQ on another method's mask, RTN last), that the masks are the
// method's, the values on their grid and the stored size counted from them.
import { describe, expect, it } from 'vitest';
import { makeCalibration } from './calibration';
import { collectStats, prunableLinears, pruneUnstructured, type UnstructuredRecipe } from './unstructured';
import { resolveQuantization } from './recipe';
import { fromRows, toRows } from './layout';
import { randomHostWeights, tinyGpt2, tinyLlama } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';
import { byteLevelTokenizerJson, loadTokenizer } from '../model/tokenizer';
import type { DataSet } from '../data/datasets';
import type { QuantizedLinear } from '../quant/types';
import { countMasks, sizeReport, storedMatrixBytes } from '../eval/pruner';
import { costReport } from '../model/cost';

const gpt = { ...tinyGpt2(), vocabSize: 256 };
const host = randomHostWeights(gpt, 5);
const weights = toTfWeights(host);
const text: DataSet = {
  kind: 'text',
  bytes: new TextEncoder().encode('And God said, Let there be light: and there was light. '.repeat(8)),
};
const sets = { train: text, heldOut: text, tokenizer: loadTokenizer(byteLevelTokenizerJson()) };
const calib = makeCalibration(gpt, { source: 'train', count: 4, seed: 1 }, sets);
const q4 = resolveQuantization({ bits: 4, groupSize: 8, quantizer: 'gptq' });

async function run(recipe: UnstructuredRecipe) {
  const stats = await collectStats(gpt, weights, recipe, calib);
  return pruneUnstructured(gpt, host, recipe, calib, stats, { weights });
}

/** Every stored value is scale · (code − zero) of its group, and 0 where the mask prunes. */
function expectOnGrid(q: QuantizedLinear, rows: Float32Array, inF: number) {
  const maxq = 2 ** q.bits - 1;
  for (let i = 0; i < rows.length; i++) {
    const r = Math.floor(i / inF);
    const g = q.groupIndex[i % inF];
    const scale = q.scales[r * q.groups + g];
    const zero = q.zeros[r * q.groups + g];
    expect(q.codes[i]).toBeLessThanOrEqual(maxq);
    expect(rows[i]).toBe(q.mask[i] ? Math.fround(scale * (q.codes[i] - zero)) : 0);
  }
}

describe('pruning with quantization', () => {
  it('GPTQ after magnitude keeps magnitude’s masks and puts the kept weights on the grid', async () => {
    const plain = await run({ method: 'magnitude', sparsity: 0.5 });
    const quant = await run({ method: 'magnitude', sparsity: 0.5, quant: q4 });
    for (const spec of prunableLinears(gpt)) {
      expect(quant.masks.get(spec.weight)).toEqual(plain.masks.get(spec.weight));
      const q = quant.quantized!.get(spec.weight)!;
      expect(q.mask).toEqual(toRows(plain.masks.get(spec.weight)!, spec));
      expectOnGrid(q, toRows(quant.weights!.get(spec.weight)!.data, spec), spec.inFeatures);
    }
  });

  it('RTN after sequential Wanda changes no mask; its values are the rounded masked weights', async () => {
    const rtn = resolveQuantization({ bits: 3, quantizer: 'rtn', symmetric: true });
    const plain = await run({ method: 'wanda', sparsity: 0.5, calibrationMode: 'sequential' });
    const quant = await run({ method: 'wanda', sparsity: 0.5, calibrationMode: 'sequential', quant: rtn });
    for (const spec of prunableLinears(gpt)) {
      // RTN runs after the block is pruned, so the next block sees quantized outputs: masks after the
      // first block may differ; the first block's may not.
      if (spec.layer === 0) expect(quant.masks.get(spec.weight)).toEqual(plain.masks.get(spec.weight));
      const q = quant.quantized!.get(spec.weight)!;
      expect(q.groups).toBe(1);
      expectOnGrid(q, toRows(quant.weights!.get(spec.weight)!.data, spec), spec.inFeatures);
    }
  });

  it('SparseGPT with GPTQ prunes and quantizes in one sweep: pruned weights exactly 0, the rest on the grid', async () => {
    const r = await run({ method: 'sparsegpt', sparsity: 0.5, quant: q4 });
    for (const spec of prunableLinears(gpt)) {
      const mask = r.masks.get(spec.weight)!;
      expect(mask.reduce((a, v) => a + v, 0)).toBe(mask.length / 2);
      const q = r.quantized!.get(spec.weight)!;
      expect(fromRows(q.mask, spec)).toEqual(mask);
      expectOnGrid(q, toRows(r.weights!.get(spec.weight)!.data, spec), spec.inFeatures);
    }
  });

  it('a one-shot method on a Llama with GPTQ and act-order: every linear quantized', async () => {
    const llama = tinyLlama();
    const h = randomHostWeights(llama, 2);
    const c = makeCalibration(llama, { source: 'random', count: 3, seed: 4 }, { ...sets, tokenizer: null });
    const recipe = {
      method: 'random' as const,
      sparsity: 0.25,
      quant: resolveQuantization({ bits: 8, quantizer: 'gptq', actOrder: true }),
    };
    const r = await pruneUnstructured(llama, h, recipe, c, {});
    for (const spec of prunableLinears(llama)) {
      const q = r.quantized!.get(spec.weight)!;
      expect([...q.groupIndex].every((g) => g === 0)).toBe(true);
      expectOnGrid(q, toRows(r.weights!.get(spec.weight)!.data, spec), spec.inFeatures);
    }
  });

  it('GPTQ without calibration data is refused', async () => {
    await expect(
      pruneUnstructured(gpt, host, { method: 'magnitude', sparsity: 0.5, quant: q4 }, null, {}),
    ).rejects.toThrow(/GPTQ needs calibration data/);
  });
});

describe('the size as stored', () => {
  const spec = prunableLinears(gpt)[0];
  const n = spec.inFeatures * spec.outFeatures;
  const groups = Math.ceil(spec.inFeatures / 8);

  it('counts values at the bits, the bitmask, and a scale and zero point per row and group', () => {
    // Dense at 4 bits, no pruning: n/2 bytes of values, f16 scale + 4-bit zero per group.
    expect(storedMatrixBytes(spec, { kept: n, is24: false }, q4)).toBe(n / 2 + spec.outFeatures * groups * 2.5);
    // Half pruned: a bitmask and half the values is the same size as dense at 4 bits (n/8 + n/4 < n/2).
    expect(storedMatrixBytes(spec, { kept: n / 2, is24: false }, q4)).toBe(
      n / 8 + n / 4 + spec.outFeatures * groups * 2.5,
    );
    // Symmetric grids store no zero points.
    expect(storedMatrixBytes(spec, { kept: n, is24: false }, { ...q4, symmetric: true })).toBe(
      n / 2 + spec.outFeatures * groups * 2,
    );
    // Without quantization: f32, the smaller of dense and bitmask + values.
    expect(storedMatrixBytes(spec, { kept: n, is24: false }, null)).toBe(4 * n);
    expect(storedMatrixBytes(spec, { kept: n / 4, is24: false }, null)).toBe(n / 8 + n);
  });

  it('the model’s stored size is the f32 rest plus each matrix as stored', async () => {
    const r = await run({ method: 'sparsegpt', sparsity: 0.5, quant: q4 });
    const counts = countMasks(gpt, r.masks);
    const report = sizeReport(gpt, counts, q4);
    const matrices = prunableLinears(gpt).reduce((a, s) => a + s.inFeatures * s.outFeatures, 0);
    const rest = 4 * (costReport(gpt).params - matrices);
    const stored = prunableLinears(gpt).reduce((a, s) => a + storedMatrixBytes(s, counts.get(s.weight)!, q4), 0);
    expect(report.stored).toBe(rest + stored);
    expect(report.stored).toBeLessThan(sizeReport(gpt, counts).stored);
    expect(sizeReport(gpt, new Map()).stored).toBe(report.dense);
  });
});
