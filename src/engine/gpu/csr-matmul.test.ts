// Parity of the sparse (CSR) and dense linear kernels (shaders/csr-matvec.wgsl, csr-matmul.wgsl,
// dense-matvec.wgsl) with their plain-TypeScript twins in csr.ts, through Dawn (SwiftShader here).
// Sums run in another order on the GPU, so outputs match within Σ|w·x| · 1e-5; NaN and ±Inf must
// match exactly.
import { describe, expect, it } from 'vitest';
import { checked, expectClose, useTestGpu } from './test-gpu';
import type { GpuKernels } from './kernels';
import type { LinearKernel } from './linear-kernel';
import {
  checkCsr,
  csrBytes,
  csrMatmulReference,
  csrProductScale,
  denseMatmulReference,
  toCsr,
  type CsrMatrix,
} from './csr';
import { csrKernel } from './csr-kernel';
import { denseMatvecKernel } from './dense-kernel';
import { runLinear, runLinears } from './run-linear';
import { randomArray } from '../model/tiny-models';

const gpu = useTestGpu();

/** A mask keeping about (1 − sparsity) of `size` entries. */
function randomMask(size: number, sparsity: number, seed: number): Uint8Array {
  return Uint8Array.from(randomArray(size, seed), (v) => ((v + 1) / 2 >= sparsity ? 1 : 0));
}

async function gpuProduct(k: GpuKernels, kernel: LinearKernel, xT: Float32Array, n: number): Promise<Float32Array> {
  try {
    return await checked(k.device, () => runLinear(k, kernel, xT, n));
  } finally {
    kernel.destroy();
  }
}

async function expectCsrParity(csr: CsrMatrix, xT: Float32Array, n: number, k = gpu.kernels): Promise<Float32Array> {
  const got = await gpuProduct(k, csrKernel(k, csr), xT, n);
  expectClose(got, csrMatmulReference(csr, xT, n), csrProductScale(csr, xT, n));
  return got;
}

async function expectDenseParity(
  w: Float32Array,
  rows: number,
  cols: number,
  x: Float32Array,
  k = gpu.kernels,
): Promise<Float32Array> {
  const got = await gpuProduct(k, denseMatvecKernel(k, w, rows, cols), x, 1);
  expectClose(got, denseMatmulReference(w, rows, cols, x, 1), csrProductScale(toCsr(w, null, rows, cols), x, 1));
  return got;
}

/** Values in [0.5, 2.5): an infinite weight keeps its sign in the product. */
const positive = (n: number, seed: number) => randomArray(n, seed).map((v) => v + 1.5);

const SHAPES: [number, number][] = [
  [1, 1],
  [3, 5],
  [97, 131],
  [300, 77],
  [5, 600],
];
const TOKENS = [1, 2, 7, 64, 130];

describe('toCsr and the references', () => {
  it('stores exactly the masked entries, ascending per row, zeros and NaN included', () => {
    const w = Float32Array.from([1, 0, 2, NaN, 5, 6, 7, 8]);
    const csr = toCsr(w, Uint8Array.from([1, 1, 0, 1, 0, 0, 0, 0]), 2, 4);
    expect([...csr.rowPtr]).toEqual([0, 3, 3]);
    expect([...csr.colIdx]).toEqual([0, 1, 3]);
    expect([...csr.values]).toEqual([1, 0, NaN]);
    expect(csrBytes(csr)).toBe(4 * (3 + 3 + 3));
    const all = toCsr(w, null, 4, 2);
    expect([...all.rowPtr]).toEqual([0, 2, 4, 6, 8]);
    expect([...all.colIdx]).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it('agree: the CSR product of a masked weight is the dense product of the weight times its mask', () => {
    const [rows, cols, n] = [13, 21, 5];
    const w = randomArray(rows * cols, 1);
    const mask = randomMask(rows * cols, 0.7, 2);
    const xT = randomArray(cols * n, 3);
    const masked = w.map((v, i) => v * mask[i]);
    const scale = csrProductScale(toCsr(w, mask, rows, cols), xT, n);
    expectClose(
      csrMatmulReference(toCsr(w, mask, rows, cols), xT, n),
      denseMatmulReference(masked, rows, cols, xT, n),
      scale,
    );
  });

  it('refuse bad shapes, wrong lengths and malformed matrices', () => {
    const w = new Float32Array(6);
    expect(() => toCsr(w, null, 0, 6)).toThrow(/toCsr: bad shape 0×6/);
    expect(() => toCsr(w, null, 2.5, 2)).toThrow(/bad shape/);
    expect(() => toCsr(w, null, 2, 4)).toThrow(/toCsr: 6 weights for 2×4/);
    expect(() => toCsr(w, new Uint8Array(5), 2, 3)).toThrow(/toCsr: 5 mask entries for 2×3/);
    expect(() => toCsr(w, Uint8Array.from([0, 1, 2, 0, 0, 0]), 2, 3)).toThrow(/mask entry 2 is 2, not 0 or 1/);
    expect(() => toCsr(new Float32Array(0), null, 2 ** 16, 2 ** 16)).toThrow(/exceed 32-bit indices/);
    expect(() => csrMatmulReference(toCsr(w, null, 2, 3), new Float32Array(5), 2)).toThrow(/xT has 5 values, want 3×2/);
    const csr = toCsr(w, null, 2, 3);
    expect(() => checkCsr('csr', { ...csr, colIdx: Uint32Array.from([0, 1, 3, 0, 1, 2]) })).toThrow(
      /entry 2 has column 3 ≥ 3/,
    );
    expect(() => checkCsr('csr', { ...csr, rowPtr: Uint32Array.from([0, 4, 6, 6]) })).toThrow(
      /4 row pointers for 2 rows/,
    );
    expect(() =>
      checkCsr('csr', {
        ...csr,
        rowPtr: Uint32Array.from([0, 4, 3]),
        colIdx: csr.colIdx.subarray(0, 3),
        values: csr.values.subarray(0, 3),
      }),
    ).toThrow(/must rise from 0 \(row 1\)/);
  });
});

describe('CSR kernels', () => {
  it('match the reference on random matrices at 0–100% sparsity, for 1 to 130 tokens', async () => {
    for (const [rows, cols] of SHAPES) {
      for (const sparsity of [0, 0.5, 0.9, 0.95, 1]) {
        const csr = toCsr(
          randomArray(rows * cols, rows + cols),
          randomMask(rows * cols, sparsity, rows * cols),
          rows,
          cols,
        );
        for (const n of TOKENS) await expectCsrParity(csr, randomArray(cols * n, n + cols, 2), n);
      }
    }
  });

  it('write 0 for rows with no entries and for a fully empty matrix', async () => {
    const [rows, cols] = [40, 33];
    const mask = randomMask(rows * cols, 0.5, 5);
    for (const r of [0, 7, 8, 39]) mask.fill(0, r * cols, (r + 1) * cols);
    const w = randomArray(rows * cols, 6);
    for (const n of [1, 7]) {
      const xT = randomArray(cols * n, 7);
      const got = await expectCsrParity(toCsr(w, mask, rows, cols), xT, n);
      for (const r of [0, 7, 8, 39]) for (let t = 0; t < n; t++) expect(got[t * rows + r]).toBe(0);
      const empty = await expectCsrParity(toCsr(w, new Uint8Array(rows * cols), rows, cols), xT, n);
      expect([...empty]).toEqual(Array(rows * n).fill(0));
    }
  });

  it('propagate NaN and ±Inf of kept weights and of x as IEEE sums over the stored entries', async () => {
    const [rows, cols] = [12, 9];
    const w = randomArray(rows * cols, 8);
    const mask = new Uint8Array(rows * cols).fill(1);
    w[0 * cols + 2] = NaN; // row 0: a kept NaN
    w[1 * cols + 3] = NaN; // row 1: a pruned NaN, must not leak
    mask[1 * cols + 3] = 0;
    w[2 * cols + 0] = Infinity; // row 2: +Inf
    w[3 * cols + 1] = -Infinity; // row 3: -Inf
    w[4 * cols + 1] = Infinity; // row 4: +Inf and -Inf: NaN
    w[4 * cols + 5] = -Infinity;
    w[5 * cols + 4] = Infinity; // row 5: a pruned +Inf
    mask[5 * cols + 4] = 0;
    for (const n of [1, 3, 70]) {
      const got = await expectCsrParity(toCsr(w, mask, rows, cols), positive(cols * n, 9), n);
      for (let t = 0; t < n; t++) {
        const at = (r: number) => got[t * rows + r];
        expect([at(0), at(2), at(3), at(4)]).toEqual([NaN, Infinity, -Infinity, NaN]);
        expect(Number.isFinite(at(1)) && Number.isFinite(at(5))).toBe(true);
      }
    }
    // Non-finite x: a NaN or infinite column reaches exactly the rows that store an entry there.
    const sparseMask = randomMask(rows * cols, 0.6, 10);
    const finiteW = randomArray(rows * cols, 11);
    for (const n of [1, 4]) {
      const xT = randomArray(cols * n, 12);
      xT[2 * n] = NaN;
      xT[5 * n + n - 1] = Infinity;
      xT[7 * n] = -Infinity;
      await expectCsrParity(toCsr(finiteW, sparseMask, rows, cols), xT, n);
      await expectCsrParity(toCsr(w, mask, rows, cols), xT, n);
    }
  });

  it('let the mask, not the value, define the sparsity: a kept 0 times Inf is NaN', async () => {
    const w = Float32Array.from([0, 1, 0, 1]); // 2×2
    const x = Float32Array.from([Infinity, 2]);
    const kept = await expectCsrParity(toCsr(w, Uint8Array.from([1, 1, 0, 1]), 2, 2), x, 1);
    expect([...kept]).toEqual([NaN, 2]);
    const pruned = await expectCsrParity(toCsr(w, Uint8Array.from([0, 1, 0, 1]), 2, 2), x, 1);
    expect([...pruned]).toEqual([2, 2]);
  });

  it('cover more workgroups than one dispatch dimension holds (2-D grid), several token tiles', async () => {
    // gpu.tiny: at most 3 × 3 workgroups. n = 1: 8 rows per workgroup; n = 7: 32 rows of 8 lanes;
    // n = 130: 4 rows of 64 lanes × 3 tokens; n = 300: 4 rows, 2 tiles of 256 tokens.
    for (const [rows, n] of [
      [37, 1],
      [150, 7],
      [29, 130],
      [13, 300],
    ]) {
      const cols = 19;
      const csr = toCsr(randomArray(rows * cols, rows), randomMask(rows * cols, 0.3, n), rows, cols);
      await expectCsrParity(csr, randomArray(cols * n, 13), n, gpu.tiny);
    }
  });

  it('record products for several token counts in one pass before a submit', async () => {
    const k = gpu.kernels;
    const [rows, cols] = [21, 17];
    const csr = toCsr(randomArray(rows * cols, 14), randomMask(rows * cols, 0.5, 15), rows, cols);
    const kernel = csrKernel(k, csr);
    const inputs = [7, 64, 1, 7].map((n, i) => ({ n, xT: randomArray(cols * n, 16 + i) }));
    const got = await checked(k.device, () => runLinears(k, kernel, inputs));
    kernel.destroy();
    inputs.forEach(({ n, xT }, i) => {
      expectClose(got[i], csrMatmulReference(csr, xT, n), csrProductScale(csr, xT, n));
    });
  });

  it('describe themselves and refuse wrong token counts and buffer sizes', async () => {
    const k = gpu.kernels;
    const csr = toCsr(randomArray(12, 1), null, 3, 4);
    const kernel = csrKernel(k, csr);
    expect([kernel.format, kernel.rows, kernel.cols, kernel.bytes]).toEqual(['csr', 3, 4, csrBytes(csr)]);
    expect([1, 2, 1000].map(kernel.supports)).toEqual([true, true, true]);
    expect([0, 1.5].map(kernel.supports)).toEqual([false, false]);
    const [x, y, small] = [k.storage(4 * 2 * 4), k.storage(3 * 2 * 4), k.storage(4)];
    const pass = k.device.createCommandEncoder().beginComputePass();
    expect(() => kernel.encode(pass, x, y, 0)).toThrow(/csr 3×4: no product for n = 0/);
    expect(() => kernel.encode(pass, x, y, 3)).toThrow(/xT has 32 bytes, needs 48 \(4×3 f32\)/);
    expect(() => kernel.encode(pass, x, small, 2)).toThrow(/y has 4 bytes, needs 24 \(2×3 f32\)/);
    pass.end();
    expect(() => csrKernel(k, { ...csr, values: new Float32Array(11) })).toThrow(
      /csrKernel: 12 columns and 11 values for 12 entries/,
    );
    await expect(runLinear(k, kernel, new Float32Array(5), 1)).rejects.toThrow(/runLinear: xT has 5 values, want 4×1/);
    [x, y, small].forEach((b) => {
      b.destroy();
    });
    kernel.destroy();
  });
});

describe('dense matrix-vector kernel', () => {
  it('matches the reference on random matrices, columns a multiple of 4 or not', async () => {
    for (const [rows, cols] of [...SHAPES, [8, 64], [33, 4]]) {
      await expectDenseParity(randomArray(rows * cols, rows * cols), rows, cols, randomArray(cols, cols, 2));
    }
  });

  it('propagates NaN and ±Inf of W and x; padding columns add nothing', async () => {
    const [rows, cols] = [6, 7];
    const w = randomArray(rows * cols, 20);
    w[0 * cols + 6] = NaN;
    w[1 * cols + 0] = Infinity;
    w[2 * cols + 3] = -Infinity;
    w[3 * cols + 3] = Infinity;
    w[3 * cols + 4] = -Infinity;
    const got = await expectDenseParity(w, rows, cols, positive(cols, 21));
    expect([...got.subarray(0, 4)]).toEqual([NaN, Infinity, -Infinity, NaN]);
    expect(got.subarray(4).every(Number.isFinite)).toBe(true);
    const x = randomArray(cols, 22);
    x[6] = Infinity; // the last column, next to the padding
    await expectDenseParity(randomArray(rows * cols, 23), rows, cols, x);
    x[2] = NaN;
    await expectDenseParity(randomArray(rows * cols, 24), rows, cols, x);
  });

  it('covers more workgroups than one dispatch dimension holds (2-D grid)', async () => {
    const [rows, cols] = [37, 10];
    await expectDenseParity(randomArray(rows * cols, 25), rows, cols, randomArray(cols, 26), gpu.tiny);
  });

  it('supports one token only and refuses bad shapes', () => {
    const k = gpu.kernels;
    expect(() => denseMatvecKernel(k, new Float32Array(6), 2, 4)).toThrow(/denseMatvecKernel: 6 weights for 2×4/);
    expect(() => denseMatvecKernel(k, new Float32Array(0), 0, 4)).toThrow(/bad shape 0×4/);
    const kernel = denseMatvecKernel(k, new Float32Array(15), 3, 5);
    expect([kernel.format, kernel.bytes, kernel.supports(1), kernel.supports(2)]).toEqual([
      'dense',
      3 * 8 * 4,
      true,
      false,
    ]);
    const [x, y] = [k.storage(5 * 2 * 4), k.storage(3 * 2 * 4)];
    const pass = k.device.createCommandEncoder().beginComputePass();
    expect(() => kernel.encode(pass, x, y, 2)).toThrow(/dense 3×5: no product for n = 2/);
    pass.end();
    [x, y].forEach((b) => {
      b.destroy();
    });
    kernel.destroy();
  });
});
