// Parity of the selection kernels (src/shaders) with their plain-TypeScript twins —
// pruning/select.ts (global and per-row top-k), pruning/nm.ts (N:M), model/tokens.ts (tokens) —
// through Dawn: SwiftShader here and in CI (chromium is installed before the unit tests), the real
// GPU's driver where one is named. No adapter fails the file (node-device.ts), never skips it.
import { beforeAll, describe, expect, it } from 'vitest';
import { checked as checkedOn, useTestGpu } from './test-gpu';
import type { GpuKernels, GpuTensor } from './kernels';
import { GlobalTopK, keyValue } from './global-topk';
import { rowTopK } from './row-topk';
import { nmMask } from './nm-mask';
import { tokenTopK } from './token-topk';
import { maskWords, unpackBits } from './bitmask';
import { globalTopK as globalTopKReference, rowTopKMask } from '../pruning/select';
import { nmMask as nmMaskReference } from '../pruning/nm';
import { selectTokens } from '../model/tokens';
import { randomArray } from '../model/tiny-models';
import { tokenReference } from './parity-suite';

const gpu = useTestGpu();
let kernels: GpuKernels;
/** Kernels forced onto 2-D grids at small sizes: at most 3 workgroups per dispatch dimension (9 per dispatch). */
let tiny: GpuKernels;

beforeAll(() => {
  ({ kernels, tiny } = gpu);
});

const checked = <T>(f: () => Promise<T>): Promise<T> => checkedOn(gpu.node.device, f);

const f32 = (bits: number[]) => new Float32Array(new Uint32Array(bits).buffer);
const NAN_NEG = 0xffc00000; // a NaN with its sign bit set
const NAN_PAYLOAD = 0x7f800001; // a signalling-style NaN
const DENORMAL = 0x00000001;
const ties = (n: number, seed: number, levels = 3) =>
  Float32Array.from(randomArray(n, seed), (v) => Math.round(v * levels));
const abs = (a: Float32Array) => a.map(Math.abs);
const flat = (masks: Uint8Array[]) => masks.flatMap((m) => [...m]);

async function gpuGlobal(groups: Float32Array[], keep: number, magnitude = false, k = kernels) {
  return checked(async () => {
    const inputs = groups.map((g) => k.upload(g));
    const sel = new GlobalTopK(k, inputs, { magnitude });
    sel.run(keep);
    const masks = await sel.readMasks();
    const threshold = await sel.readThreshold();
    sel.destroy();
    for (const t of inputs) t.buffer.destroy();
    return { masks, threshold };
  });
}

/** Checks masks and threshold of one global selection against select.ts. */
async function expectGlobalParity(groups: Float32Array[], keep: number, magnitude = false, k = kernels) {
  const scores = magnitude ? groups.map(abs) : groups;
  const { masks, threshold } = await gpuGlobal(groups, keep, magnitude, k);
  const reference = flat(globalTopKReference(scores, keep));
  expect(flat(masks)).toEqual(reference);
  // The threshold is the worst kept score (NaN when a NaN had to be kept); above/ties count around it.
  const all = scores.flatMap((g) => [...g]);
  const kept = all.filter((_, i) => reference[i]);
  const worst = kept.some(Number.isNaN) ? NaN : keep === 0 ? Infinity : Math.min(...kept) + 0; // + 0: -0 is +0
  const same = (v: number) => (Number.isNaN(worst) ? Number.isNaN(v) : v === worst);
  expect(threshold.value).toBe(worst);
  expect(threshold.kept).toBe(keep);
  if (keep > 0) {
    expect(threshold.ties).toBe(all.filter(same).length);
    expect(threshold.above).toBe(
      Number.isNaN(worst) ? all.filter((v) => !Number.isNaN(v)).length : all.filter((v) => v > worst).length,
    );
  }
}

describe('global top-k (radix select)', () => {
  it('keeps exactly k of a small example for every k, ties by position across tensors', async () => {
    const a = Float32Array.from([3, 1, 2, 2, 2]);
    const b = Float32Array.from([2, 5, NaN, 0]);
    for (let k = 0; k <= 9; k++) await expectGlobalParity([a, b], k);
  });

  it('orders ±0, ±Inf, denormals and NaNs of any sign and payload as select.ts does', async () => {
    const odd = f32([
      0x80000000,
      0,
      NAN_NEG,
      NAN_PAYLOAD,
      DENORMAL,
      0x80000001,
      0x7f800000,
      0xff800000,
      0x3f800000,
      0xbf800000,
    ]);
    for (let k = 0; k <= odd.length; k++) {
      await expectGlobalParity([odd], k);
      await expectGlobalParity([odd], k, true);
    }
  });

  it('matches on random tensors with heavy ties, odd lengths and one-element tensors', async () => {
    const groups = [ties(1, 1), ties(8193, 2), ties(31, 3), ties(20000, 4, 10), ties(1, 5)];
    const total = groups.reduce((a, g) => a + g.length, 0);
    for (const keep of [0, 1, 17, 8192, 14000, total - 1, total])
      await expectGlobalParity(groups, keep, keep % 2 === 1);
    const smooth = [randomArray(5000, 9), randomArray(777, 10)];
    for (const keep of [1, 2888, 5776, 5777]) await expectGlobalParity(smooth, keep, true);
  });

  it('splits ties that span blocks and tensors by position', async () => {
    // 3 × 9000 equal values: each tensor spans two 8192-blocks; keep cuts inside the second tensor.
    const groups = [
      new Float32Array(9000).fill(0.5),
      new Float32Array(9000).fill(-0.5),
      new Float32Array(9000).fill(0.5),
    ];
    for (const keep of [1, 8192, 8193, 12000, 20000, 27000]) await expectGlobalParity(groups, keep, true);
  });

  it('handles an all-zero tensor and NaN-only tensors', async () => {
    await expectGlobalParity([new Float32Array(100), f32(Array(40).fill(NAN_NEG))], 110);
    await expectGlobalParity([new Float32Array(100), f32(Array(40).fill(NAN_NEG))], 40);
  });

  it('covers a tensor larger than one dispatch (2-D grids)', async () => {
    // With at most 3 workgroups per dimension, 70,000 entries need 5 histogram and 9 mask workgroups.
    const big = ties(70000, 11, 50);
    for (const keep of [0, 1, 33333, 70000]) await expectGlobalParity([big, ties(5, 12)], keep, true, tiny);
  });

  it('refuses a keep outside [0, total]', () => {
    const t = kernels.upload(new Float32Array(4));
    const sel = new GlobalTopK(kernels, [t]);
    expect(() => sel.run(5)).toThrow(/keep must be an integer in \[0, 4\]/);
    expect(() => sel.run(1.5)).toThrow(/keep must be/);
    sel.destroy();
    t.buffer.destroy();
  });

  it('maps order keys back to values', () => {
    expect(keyValue(0x80000000)).toBe(0);
    expect(keyValue(0xbf800000)).toBe(1);
    expect(keyValue(~0xbf800000 >>> 0)).toBe(-1);
    expect(keyValue(0)).toBeNaN();
  });
});

async function readMask(k: GpuKernels, buffer: GPUBuffer, n: number) {
  const words = await k.readWords(buffer, maskWords(n));
  buffer.destroy();
  return [...unpackBits(words, n)];
}

async function withScores<T>(scores: Float32Array, k: GpuKernels, f: (t: GpuTensor) => Promise<T>): Promise<T> {
  return checked(async () => {
    const t = k.upload(scores);
    const out = await f(t);
    t.buffer.destroy();
    return out;
  });
}

describe('per-row top-k', () => {
  const shapes: [number, number][] = [
    [1, 1],
    [3, 7],
    [5, 33],
    [17, 100],
    [2, 3000],
  ];
  it('matches rowTopKMask on random rows with ties, for every keep edge', async () => {
    for (const [rows, cols] of shapes) {
      const s = ties(rows * cols, rows * 100 + cols);
      for (const keep of new Set([0, 1, Math.floor(cols / 2), cols - 1, cols].filter((x) => x >= 0))) {
        for (const magnitude of [false, true]) {
          const got = await withScores(s, kernels, async (t) =>
            readMask(kernels, rowTopK(kernels, t, { rows, cols }, keep, { magnitude }), s.length),
          );
          expect(got).toEqual([...rowTopKMask(magnitude ? abs(s) : s, rows, cols, keep)]);
        }
      }
    }
  });

  it('handles all-zero rows, NaN rows, ±0 and infinities', async () => {
    const cols = 40;
    const s = new Float32Array(4 * cols);
    s.subarray(cols, 2 * cols).set(f32(Array(cols).fill(NAN_PAYLOAD)));
    s.subarray(2 * cols, 3 * cols).set(
      f32(Array.from({ length: cols }, (_, i) => [0x80000000, 0, 0xff800000, 0x7f800000, NAN_NEG][i % 5])),
    );
    s.subarray(3 * cols).set(randomArray(cols, 3));
    for (const keep of [0, 3, 20, 39, 40]) {
      const got = await withScores(s, kernels, async (t) =>
        readMask(kernels, rowTopK(kernels, t, { rows: 4, cols }, keep), s.length),
      );
      expect(got).toEqual([...rowTopKMask(s, 4, cols, keep)]);
    }
  });

  it('covers more rows than one dispatch dimension holds (2-D grid)', async () => {
    const [rows, cols] = [7, 45];
    const s = ties(rows * cols, 77);
    const got = await withScores(s, tiny, async (t) => readMask(tiny, rowTopK(tiny, t, { rows, cols }, 20), s.length));
    expect(got).toEqual([...rowTopKMask(s, rows, cols, 20)]);
  });

  it('refuses a bad shape or keep', () => {
    const t = kernels.upload(new Float32Array(6));
    expect(() => rowTopK(kernels, t, { rows: 2, cols: 4 }, 1)).toThrow(/6 scores for 2×4/);
    expect(() => rowTopK(kernels, t, { rows: 2, cols: 3 }, 4)).toThrow(/keep must be an integer in \[0, 3\]/);
    t.buffer.destroy();
  });
});

describe('N:M masks', () => {
  it('match nmMask for 2:4, 4:8 and 1:3, with short last groups and ties', async () => {
    for (const [n, m] of [
      [2, 4],
      [4, 8],
      [1, 3],
      [0, 2],
    ]) {
      for (const [rows, cols] of [
        [1, 1],
        [3, 10],
        [5, 13],
        [4, 64],
        [9, 37],
      ]) {
        const s = ties(rows * cols, n * 1000 + m * 100 + cols);
        for (const magnitude of [false, true]) {
          const got = await withScores(s, kernels, async (t) =>
            readMask(kernels, nmMask(kernels, t, { rows, cols }, n, m, { magnitude }), s.length),
          );
          expect(got).toEqual([...nmMaskReference(magnitude ? abs(s) : s, rows, cols, n, m)]);
        }
      }
    }
  });

  it('orders NaN, ±0 and infinities as nm.ts does', async () => {
    const s = f32([NAN_NEG, 0x80000000, 0, 0x7f800000, 0xff800000, NAN_PAYLOAD, 0, 0x80000000]);
    const got = await withScores(s, kernels, async (t) =>
      readMask(kernels, nmMask(kernels, t, { rows: 2, cols: 4 }, 2, 4), 8),
    );
    expect(got).toEqual([...nmMaskReference(s, 2, 4, 2, 4)]);
  });

  it('covers more words than one dispatch dimension holds (2-D grid)', async () => {
    const [rows, cols] = [64, 600]; // 1200 words: 5 workgroups of 256
    const s = ties(rows * cols, 5);
    const got = await withScores(s, tiny, async (t) => readMask(tiny, nmMask(tiny, t, { rows, cols }, 2, 4), s.length));
    expect(got).toEqual([...nmMaskReference(s, rows, cols, 2, 4)]);
  });

  it('refuses N ≥ M', () => {
    const t = kernels.upload(new Float32Array(4));
    expect(() => nmMask(kernels, t, { rows: 1, cols: 4 }, 4, 4)).toThrow(/N < M/);
    t.buffer.destroy();
  });
});

async function gpuTokens(
  s: Float32Array,
  rows: number,
  cols: number,
  keep: number,
  protect: number | null,
  k = kernels,
) {
  return withScores(s, k, async (t) => {
    const buffer = tokenTopK(k, t, { rows, cols }, keep, protect);
    const out = await k.readWords(buffer, rows * keep);
    buffer.destroy();
    return Array.from({ length: rows }, (_, r) => [...out.subarray(r * keep, r * keep + keep)]);
  });
}

describe('per-query token top-k', () => {
  it('matches selectTokens on many rows (CLS and last-token protection, ties)', async () => {
    for (const [rows, cols, keep, protect] of [
      [40, 17, 5, 0],
      [30, 128, 10, 127],
      [3, 300, 299, 0],
      [6, 1, 1, 0],
    ] as const) {
      const s = ties(rows * cols, rows + cols, 4);
      const got = await gpuTokens(s, rows, cols, keep, protect);
      for (let r = 0; r < rows; r++)
        expect(got[r]).toEqual(selectTokens(s.subarray(r * cols, (r + 1) * cols), keep, protect));
    }
  });

  it('ranks NaN last and an infinite score below the protected token; works without protection', async () => {
    const s = f32([0x7f800000, NAN_NEG, 0x3f800000, 0x7f800000, 0, 0x80000000, NAN_PAYLOAD, 0xff800000]);
    for (const protect of [null, 2, 7]) {
      for (let keep = protect === null ? 0 : 1; keep <= 8; keep++) {
        const got = await gpuTokens(s, 1, 8, keep, protect);
        expect(got[0]).toEqual(tokenReference(s, keep, protect));
      }
    }
  });

  it('covers more rows than one dispatch dimension holds (2-D grid)', async () => {
    const s = ties(7 * 20, 3);
    const got = await gpuTokens(s, 7, 20, 6, 0, tiny);
    for (let r = 0; r < 7; r++) expect(got[r]).toEqual(tokenReference(s.subarray(r * 20, r * 20 + 20), 6, 0));
  });
});
