// Parity of the 2:4 kernels (shaders/nm24-matvec.wgsl, nm24-matmul.wgsl) with their plain-TypeScript
// twin in nm24.ts, through Dawn (SwiftShader here), and of that twin with the CSR product of the
// same mask. Sums run in another order on the GPU, so outputs match within Σ|w·x| · 1e-5; NaN and
// ±Inf must match exactly.
import { describe, expect, it } from 'vitest';
import { checked, expectClose, useTestGpu } from './test-gpu';
import type { GpuKernels } from './kernels';
import { checkNm24, nm24Bytes, nm24MatmulReference, toNm24, type Nm24Matrix } from './nm24';
import { nm24Kernel } from './nm24-kernel';
import { csrMatmulReference, toCsr } from './csr';
import { runLinear, runLinears } from './run-linear';
import { nmMask } from '../pruning/nm';
import { randomArray } from '../model/tiny-models';

const gpu = useTestGpu();

const mask24 = (rows: number, cols: number, seed: number) => nmMask(randomArray(rows * cols, seed), rows, cols, 2, 4);

/** A 2:4 mask with about `drop` of its kept entries dropped again: groups keeping 2, 1 or none. */
function sparserMask(rows: number, cols: number, seed: number, drop = 0.5): Uint8Array {
  const r = randomArray(rows * cols, seed + 1);
  return mask24(rows, cols, seed).map((k, i) => ((r[i] + 1) / 2 < drop ? 0 : k));
}

const scaleOf = (m: Nm24Matrix, xT: Float32Array, n: number) =>
  nm24MatmulReference({ ...m, values: m.values.map(Math.abs) }, xT.map(Math.abs), n);

async function expectParity(
  m: Nm24Matrix,
  xT: Float32Array,
  n: number,
  k: GpuKernels = gpu.kernels,
): Promise<Float32Array> {
  const kernel = nm24Kernel(k, m);
  try {
    const got = await checked(k.device, () => runLinear(k, kernel, xT, n));
    expectClose(got, nm24MatmulReference(m, xT, n), scaleOf(m, xT, n));
    return got;
  } finally {
    kernel.destroy();
  }
}

/** Values in [0.5, 2.5): an infinite weight keeps its sign in the product. */
const positive = (n: number, seed: number) => randomArray(n, seed).map((v) => v + 1.5);

const SHAPES: [number, number][] = [
  [1, 1],
  [1, 3],
  [3, 5],
  [97, 131],
  [300, 77],
  [64, 256],
];
const TOKENS = [1, 2, 7, 64, 130];

describe('2:4 format', () => {
  it('stores two slots per group of 4 and a 4-bit code per group, 8 codes a word', () => {
    const w = Float32Array.from({ length: 18 }, (_, i) => i + 1);
    w[3] = NaN;
    w[10] = 0;
    // prettier-ignore
    const mask = Uint8Array.from([
      0,
      1,
      0,
      1,
      /**/ 1,
      0, // row 0: two kept (one NaN); a short group keeping one
      0,
      0,
      1,
      0,
      /**/ 1,
      1, // row 1: one kept at position 2; a kept 0 and a 12
      0,
      0,
      0,
      0,
      /**/ 0,
      0, // row 2: nothing kept
    ]);
    const m = toNm24(w, mask, 3, 6);
    expect([...m.values]).toEqual([2, NaN, 5, 0, 9, 0, 0, 12, 0, 0, 0, 0]);
    const codes = [0b1101, 0b0000, 0b1010, 0b0100, 0b0001, 0b0001]; // p0 | p1 << 2; p0 > p1: empty
    expect([...m.indices]).toEqual([codes.reduce((word, c, q) => word | (c << (4 * q)), 0)]);
    expect(nm24Bytes(3, 6)).toBe(4 * (12 + 1));
    const big = toNm24(randomArray(97 * 131, 1), mask24(97, 131, 2), 97, 131);
    expect([big.values.length, big.indices.length]).toEqual([97 * 33 * 2, Math.ceil((97 * 33) / 8)]);
  });

  it('refuses a group keeping more than 2, naming its row and group, and malformed matrices', () => {
    const mask = mask24(3, 10, 3);
    mask.set([1, 1, 1, 0], 14); // row 1, group 1 (columns 4–7): 3 of 4
    expect(() => toNm24(randomArray(30, 4), mask, 3, 10)).toThrow(
      /toNm24: row 1, group 1 \(columns 4–7\) keeps 3 entries; 2:4 stores at most 2 of every 4/,
    );
    expect(() => toNm24(new Float32Array(7), Uint8Array.from([0, 0, 0, 0, 1, 1, 1]), 1, 7)).toThrow(
      /row 0, group 1 \(columns 4–6\) keeps 3/,
    );
    expect(() => toNm24(new Float32Array(6), new Uint8Array(6), 2, 4)).toThrow(/toNm24: 6 weights for 2×4/);
    expect(() => toNm24(new Float32Array(8), new Uint8Array(6), 2, 4)).toThrow(/toNm24: 6 mask entries for 2×4/);
    expect(() => toNm24(new Float32Array(0), new Uint8Array(0), 0, 4)).toThrow(/bad shape 0×4/);
    const m = toNm24(new Float32Array(10), Uint8Array.from([1, 0, 0, 1, 1, 0, 0, 0, 0, 0]), 2, 5);
    expect(() => checkNm24('nm24', m)).not.toThrow();
    expect(() => checkNm24('nm24', { ...m, values: new Float32Array(6) })).toThrow(
      /nm24: 6 values for 2×2 groups of 2/,
    );
    expect(() => checkNm24('nm24', { ...m, indices: new Uint32Array(2) })).toThrow(
      /nm24: 2 index words for 2×2 groups/,
    );
    // Row 1's last group (length 1) given p1 = 1: past the row.
    expect(() => checkNm24('nm24', { ...m, indices: Uint32Array.from([m.indices[0] | (0b0100 << 12)]) })).toThrow(
      /row 1's last group \(length 1\) has code 5, reading past the row/,
    );
  });

  it('takes about half the bytes of dense f32 when cols % 4 = 0', () => {
    for (const [rows, cols] of [
      [64, 256],
      [768, 3072],
    ])
      expect(nm24Bytes(rows, cols) / (4 * rows * cols)).toBe(8.5 / 16);
  });

  it('has a reference equal to the CSR product of the same mask, NaN, ±Inf and empty groups included', () => {
    for (const [rows, cols] of [
      [1, 1],
      [3, 5],
      [13, 22],
      [9, 17],
    ]) {
      for (const mask of [mask24(rows, cols, cols), sparserMask(rows, cols, cols), new Uint8Array(rows * cols)]) {
        const w = randomArray(rows * cols, rows);
        w[0] = NaN;
        w[Math.floor((rows * cols) / 2)] = Infinity;
        for (const n of [1, 3]) {
          const xT = randomArray(cols * n, n);
          xT[(cols - 1) * n] = Infinity; // the last column: a short group's, when cols % 4 ≠ 0
          xT[0] = -Infinity;
          expect(nm24MatmulReference(toNm24(w, mask, rows, cols), xT, n)).toEqual(
            csrMatmulReference(toCsr(w, mask, rows, cols), xT, n),
          );
        }
      }
    }
  });
});

describe('2:4 kernels', () => {
  it('match the reference on N:M masks of random scores, for 1 to 130 tokens', async () => {
    for (const [rows, cols] of SHAPES) {
      const m = toNm24(randomArray(rows * cols, rows + cols), mask24(rows, cols, rows * cols), rows, cols);
      for (const n of TOKENS) await expectParity(m, randomArray(cols * n, n + cols, 2), n);
    }
  });

  it('match with groups keeping fewer than 2, and write 0 for rows of empty groups', async () => {
    const [rows, cols] = [40, 33];
    const mask = sparserMask(rows, cols, 5);
    const empty = [0, 7, 8, 39];
    for (const r of empty) mask.fill(0, r * cols, (r + 1) * cols);
    const w = randomArray(rows * cols, 6);
    w.fill(0, 3 * cols, 4 * cols); // row 3: kept zeros
    for (const n of [1, 2, 7, 64]) {
      const xT = randomArray(cols * n, 7);
      const got = await expectParity(toNm24(w, mask, rows, cols), xT, n);
      for (const r of [...empty, 3]) for (let t = 0; t < n; t++) expect(got[t * rows + r]).toBe(0);
      const none = await expectParity(toNm24(w, new Uint8Array(rows * cols), rows, cols), xT, n);
      expect([...none]).toEqual(Array(rows * n).fill(0));
    }
  });

  it('propagate NaN and ±Inf of kept weights and of x as IEEE sums over the stored entries', async () => {
    const [rows, cols] = [12, 9];
    const w = randomArray(rows * cols, 8);
    const mask = new Uint8Array(rows * cols);
    for (let r = 0; r < rows; r++) for (const c of [0, 1, 5, 6, 8]) mask[r * cols + c] = 1; // 2, 2, 1 per row
    w[0 * cols + 5] = NaN; // row 0: a kept NaN
    w[1 * cols + 3] = NaN; // row 1: a pruned NaN, must not leak
    w[2 * cols + 0] = Infinity; // row 2: +Inf
    w[3 * cols + 8] = -Infinity; // row 3: -Inf, in the short last group
    w[4 * cols + 1] = Infinity; // row 4: +Inf and -Inf: NaN
    w[4 * cols + 6] = -Infinity;
    w[5 * cols + 7] = Infinity; // row 5: a pruned +Inf
    const m = toNm24(w, mask, rows, cols);
    for (const n of [1, 3, 70]) {
      const got = await expectParity(m, positive(cols * n, 9), n);
      for (let t = 0; t < n; t++) {
        const at = (r: number) => got[t * rows + r];
        expect([at(0), at(2), at(3), at(4)]).toEqual([NaN, Infinity, -Infinity, NaN]);
        expect(Number.isFinite(at(1)) && Number.isFinite(at(5))).toBe(true);
      }
    }
    // Non-finite x: a NaN or infinite column reaches exactly the rows that store an entry there.
    const finite = toNm24(randomArray(rows * cols, 11), sparserMask(rows, cols, 10), rows, cols);
    for (const n of [1, 4]) {
      const xT = randomArray(cols * n, 12);
      xT[2 * n] = NaN;
      xT[5 * n + n - 1] = Infinity;
      xT[8 * n] = -Infinity;
      await expectParity(finite, xT, n);
      await expectParity(m, xT, n);
    }
  });

  it('add nothing for empty slots, even where x is infinite; a kept 0 times Inf is NaN', async () => {
    const cases: [number, number[], number[], number][] = [
      // cols, weights, mask, product when every x is +Inf
      [1, [3], [0], 0],
      [1, [3], [1], Infinity],
      [4, [0, -2, 0, 0], [0, 1, 0, 0], -Infinity], // slot 1 empty (value 0)
      [5, [1, 0, 0, 1, 7], [1, 0, 0, 1, 0], Infinity], // an empty last group of length 1
      [4, [0, 1, 0, 0], [1, 1, 0, 0], NaN], // a kept 0
    ];
    for (const [cols, w, mask, want] of cases) {
      const m = toNm24(Float32Array.from(w), Uint8Array.from(mask), 1, cols);
      for (const n of [1, 2]) {
        const got = await expectParity(m, new Float32Array(cols * n).fill(Infinity), n);
        expect([...got]).toEqual(Array(n).fill(want));
      }
    }
  });

  it('cover more workgroups than one dispatch dimension holds (2-D grid), several token tiles', async () => {
    // gpu.tiny: at most 3 × 3 workgroups. n = 1 at 131 columns: 16 lanes, 16 rows per workgroup;
    // n = 7: 32 rows of 8 lanes; n = 130: 4 rows of 64 lanes × 3 tokens; n = 300: 4 rows, 2 tiles.
    for (const [rows, cols, n] of [
      [130, 131, 1],
      [150, 19, 7],
      [29, 19, 130],
      [13, 19, 300],
    ]) {
      const m = toNm24(randomArray(rows * cols, rows), sparserMask(rows, cols, n, 0.2), rows, cols);
      await expectParity(m, randomArray(cols * n, 13), n, gpu.tiny);
    }
  });

  it('record products for several token counts in one pass before a submit', async () => {
    const k = gpu.kernels;
    const [rows, cols] = [21, 17];
    const m = toNm24(randomArray(rows * cols, 14), mask24(rows, cols, 15), rows, cols);
    const kernel = nm24Kernel(k, m);
    const inputs = [7, 64, 1, 7].map((n, i) => ({ n, xT: randomArray(cols * n, 16 + i) }));
    const got = await checked(k.device, () => runLinears(k, kernel, inputs));
    kernel.destroy();
    inputs.forEach(({ n, xT }, i) => {
      expectClose(got[i], nm24MatmulReference(m, xT, n), scaleOf(m, xT, n));
    });
  });

  it('describe themselves and refuse wrong token counts, buffer sizes and malformed matrices', () => {
    const k = gpu.kernels;
    const m = toNm24(randomArray(12, 1), mask24(3, 4, 2), 3, 4);
    const kernel = nm24Kernel(k, m);
    expect([kernel.format, kernel.rows, kernel.cols, kernel.bytes]).toEqual(['nm24', 3, 4, nm24Bytes(3, 4)]);
    expect([1, 2, 1000].map(kernel.supports)).toEqual([true, true, true]);
    expect([0, 1.5].map(kernel.supports)).toEqual([false, false]);
    const [x, y] = [k.storage(4 * 2 * 4), k.storage(3 * 2 * 4)];
    const pass = k.device.createCommandEncoder().beginComputePass();
    expect(() => kernel.encode(pass, x, y, 0)).toThrow(/nm24 3×4: no product for n = 0/);
    expect(() => kernel.encode(pass, x, y, 3)).toThrow(/xT has 32 bytes, needs 48 \(4×3 f32\)/);
    pass.end();
    expect(() => nm24Kernel(k, { ...m, indices: new Uint32Array(0) })).toThrow(/nm24Kernel: 0 index words/);
    [x, y].forEach((b) => {
      b.destroy();
    });
    kernel.destroy();
  });
});
