// The pruned model's linear layers on our kernels inside TF.js's WebGPU backend (Dawn on
// SwiftShader here): products equal tf.matMul on the masked matrix whichever format runs, the
// measured choice happens between batches, and a whole forward pass with the override equals the
// dense one.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerNodeTfjsWebGpu } from './node-tfjs-webgpu';
import { SparseLinears, type LinearPath, type SparseLayer } from './sparse-linears';
import { tfjsWebGpu } from './tfjs-device';
import { resetWebGpuBackend } from './tfjs-device';
import { nmMask } from '../pruning/nm';
import { topKMask } from '../pruning/select';
import { randomArray, randomHostWeights, tinyGpt2 } from '../model/tiny-models';
import { forward } from '../model/forward';
import { prunableLinears } from '../pruning/unstructured';
import { toRows } from '../pruning/layout';
import type { Weights } from '../model/types';

beforeAll(async () => {
  expect(await registerNodeTfjsWebGpu()).toBe(true);
  expect(await tf.setBackend('webgpu')).toBe(true);
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** A SparseLayer from its [out, in] view. */
function fromView(
  weight: string,
  rows: Float32Array,
  mask: Uint8Array,
  out: number,
  inF: number,
  dense: tf.Tensor,
  transposed: boolean,
): SparseLayer {
  return {
    weight,
    out,
    in: inF,
    density: mask.reduce((a, v) => a + v, 0) / mask.length,
    dense,
    transposed,
    view: () => ({ rows, mask }),
  };
}

/** A random [out, in] layer with `mask` applied; stored [out, in] (ViT's layout). */
function layer(out: number, inF: number, mask: Uint8Array, seed: number): SparseLayer {
  const rows = randomArray(out * inF, seed).map((v, i) => v * mask[i]);
  return fromView(`w${seed}`, rows, mask, out, inF, tf.tensor2d(rows, [out, inF]), true);
}

const magnitudeMask = (out: number, inF: number, keep: number, seed: number) =>
  topKMask(randomArray(out * inF, seed + 1).map(Math.abs), keep);

/** The override's product for n tokens, once measured (a first call of an untimed shape only notes it). */
async function product(linears: SparseLinears, l: SparseLayer, x: tf.Tensor2D): Promise<Float32Array> {
  let y = linears.matmul(l.weight, x);
  if (!y) {
    await linears.settle();
    y = linears.matmul(l.weight, x);
  }
  const out = y ?? tf.matMul(x, l.dense, false, true);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

describe('pruned linears on our kernels in TF.js WebGPU', () => {
  it('computes x·Wᵀ as tf.matMul does, in every format, at n = 1 and n > 1', async () => {
    const cases: [string, SparseLayer, LinearPath[]][] = [
      ['90% unstructured', layer(37, 50, magnitudeMask(37, 50, 185, 1), 1), ['csr', 'dense']],
      ['2:4', layer(24, 30, nmMask(randomArray(24 * 30, 3), 24, 30, 2, 4), 2), ['nm24', 'csr', 'dense']],
    ];
    for (const [name, l, formats] of cases) {
      for (const n of [1, 5]) {
        const x = tf.tensor2d(randomArray(n * l.in, 7 + n), [n, l.in]);
        const want = (await tf.matMul(x, l.dense, false, true).data()) as Float32Array;
        for (const path of formats) {
          if (path === 'dense' && n > 1) continue;
          const linears = new SparseLinears(tf.backend() as never, [l], [path]);
          const got = await product(linears, l, x);
          const [choice] = linears.report();
          expect(choice.path, `${name}, ${path}, n = ${n}`).toBe(path);
          for (let i = 0; i < want.length; i++)
            expect(Math.abs(got[i] - want[i]), `${name}, ${path}, n = ${n}, entry ${i}`).toBeLessThan(1e-5);
          linears.destroy();
        }
        x.dispose();
      }
      l.dense.dispose();
    }
  });

  it('times every fitting candidate and runs the fastest, per layer and token count', async () => {
    const l = layer(40, 64, nmMask(randomArray(40 * 64, 5), 40, 64, 2, 4), 4);
    const linears = new SparseLinears(tf.backend() as never, [l]);
    const x1 = tf.tensor2d(randomArray(64, 9), [1, 64]);
    const x8 = tf.tensor2d(randomArray(8 * 64, 10), [8, 64]);
    expect(linears.matmul(l.weight, x1)).toBeNull();
    expect(linears.matmul(l.weight, x8)).toBeNull();
    expect(linears.matmul('not pruned', x1)).toBeNull();
    await linears.settle();
    const [one, eight] = linears.report();
    expect(Object.keys(one.ms).sort()).toEqual(['csr', 'dense', 'nm24', 'tfjs']);
    expect(Object.keys(eight.ms).sort()).toEqual(['csr', 'nm24', 'tfjs']); // our dense kernel is matrix-vector only
    for (const c of [one, eight]) {
      expect(c.density).toBe(0.5);
      for (const ms of Object.values(c.ms)) expect(ms).toBeGreaterThan(0);
      expect(c.ms[c.path]).toBe(Math.min(...Object.values(c.ms)));
    }
    // After settling, the chosen path answers: null exactly when TF.js's dense product won.
    const y = linears.matmul(l.weight, x8);
    expect(y === null).toBe(eight.path === 'tfjs');
    tf.dispose([y ?? [], x1, x8, l.dense]);
    linears.destroy();
  });

  it('stops timing once aborted, so a Cancel does not wait for the timings; the shape is timed on its next call', async () => {
    const l = layer(24, 48, magnitudeMask(24, 48, 300, 12), 12);
    const linears = new SparseLinears(tf.backend() as never, [l]);
    const x = tf.tensor2d(randomArray(5 * 48, 13), [5, 48]);
    expect(linears.matmul(l.weight, x)).toBeNull();
    const stop = new AbortController();
    stop.abort();
    await expect(linears.settle(stop.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(linears.report()).toEqual([]);
    expect(linears.matmul(l.weight, x)).toBeNull();
    await linears.settle(new AbortController().signal);
    expect(Object.keys(linears.report()[0].ms).sort()).toEqual(['csr', 'tfjs']);
    tf.dispose([x, l.dense]);
    linears.destroy();
  });

  it('leaves a dense-enough layer to TF.js unless it is 2:4', async () => {
    const l = layer(16, 20, magnitudeMask(16, 20, 200, 6), 6); // 62.5% kept
    const linears = new SparseLinears(tf.backend() as never, [l]);
    const x = tf.tensor2d(randomArray(3 * 20, 11), [3, 20]);
    linears.matmul(l.weight, x);
    await linears.settle();
    expect(linears.report()[0]).toMatchObject({ path: 'tfjs', ms: { tfjs: expect.any(Number) } });
    expect(Object.keys(linears.report()[0].ms)).toEqual(['tfjs']);
    tf.dispose([x, l.dense]);
    linears.destroy();
  });

  it('gives the same logits through a whole GPT-2 forward pass as the masked dense model', async () => {
    const config = tinyGpt2();
    const host = randomHostWeights(config, 3);
    const weights: Weights = new Map([...host].map(([name, t]) => [name, tf.tensor(t.data, t.shape)]));
    const layers: SparseLayer[] = prunableLinears(config).map((spec, i) => {
      const n = spec.inFeatures * spec.outFeatures;
      const mask = topKMask(randomArray(n, 50 + i).map(Math.abs), Math.round(n * 0.2));
      const stored = toRows(host.get(spec.weight)!.data, spec); // [out, in] view
      const rows = stored.map((v, j) => v * mask[j]);
      // GPT-2's Conv1D stores [in, out]: the dense tensor the forward multiplies is in that layout.
      const dense = tf.transpose(tf.tensor2d(rows, [spec.outFeatures, spec.inFeatures]));
      weights.get(spec.weight)!.dispose();
      weights.set(spec.weight, dense);
      return fromView(spec.weight, rows, mask, spec.outFeatures, spec.inFeatures, dense, false);
    });
    const ids = tf.tensor2d(
      Int32Array.from(randomArray(2 * 9, 77), (v) => Math.floor(Math.abs(v) * 37)),
      [2, 9],
      'int32',
    );
    const want = (await tf.tidy(() => forward(config, weights, ids).logits).data()) as Float32Array;
    const linears = new SparseLinears(tf.backend() as never, layers, ['csr']);
    tf.dispose(tf.tidy(() => forward(config, weights, ids, { linears }).logits)); // notes the shapes
    await linears.settle();
    expect(linears.report().map((c) => c.path)).toEqual(layers.map(() => 'csr'));
    const got = (await tf.tidy(() => forward(config, weights, ids, { linears }).logits).data()) as Float32Array;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
    linears.destroy();
    tf.dispose([ids, ...weights.values()]);
  });

  it('never uses a format whose product differs from TF.js on this device', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const good = layer(20, 24, magnitudeMask(20, 24, 48, 9), 9);
    // What a miscompiling driver would look like: the CSR kernel computes from other values than the dense matrix holds.
    const { rows, mask } = good.view();
    const broken = fromView(
      'broken',
      rows.map((v) => v * 2),
      mask,
      20,
      24,
      good.dense,
      true,
    );
    const linears = new SparseLinears(tf.backend() as never, [broken]);
    const x = tf.tensor2d(randomArray(3 * 24, 13), [3, 24]);
    expect(linears.matmul('broken', x)).toBeNull();
    await linears.settle();
    const [choice] = linears.report();
    expect(choice.path).toBe('tfjs');
    expect(Object.keys(choice.ms)).toEqual(['tfjs']);
    expect(choice.rejected.csr).toMatch(/^its product differs from TF\.js's \(output \d+: /);
    expect(linears.matmul('broken', x)).toBeNull(); // TF.js's product from now on
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/csr for 20×24 at n = 3 is not used on this device/));
    tf.dispose([x, good.dense]);
    linears.destroy();
    warn.mockRestore();
  });

  // Last in the file: it destroys the device.
  it('starts afresh on the device TF.js makes after a loss: kernels compiled and candidates timed again', async () => {
    const mask = magnitudeMask(30, 40, 120, 8);
    const before = layer(30, 40, mask, 8);
    const x = tf.tensor2d(randomArray(2 * 40, 12), [2, 40]);
    const old = SparseLinears.forCurrentBackend([before], ['csr'])!;
    await product(old, before, x);
    old.destroy();
    tf.dispose([x, before.dense]);
    const lost = tfjsWebGpu()!.device;
    lost.destroy();
    await lost.lost;
    resetWebGpuBackend(); // what the worker does on a loss (workers/device-loss.ts)
    expect(await tf.setBackend('webgpu')).toBe(true);
    expect(tfjsWebGpu()!.device).not.toBe(lost);
    const after = layer(30, 40, mask, 8);
    const x2 = tf.tensor2d(randomArray(2 * 40, 12), [2, 40]);
    const linears = SparseLinears.forCurrentBackend([after], ['csr'])!;
    expect(linears.matmul(after.weight, x2)).toBeNull(); // the old device's timings do not count here
    const got = await product(linears, after, x2);
    const want = await tf.matMul(x2, after.dense, false, true).data();
    expect(linears.report()[0].path).toBe('csr');
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
    linears.destroy();
    tf.dispose([x2, after.dense]);
  });
});
