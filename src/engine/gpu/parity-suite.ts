// Every WGSL kernel against its plain-TypeScript twin on random and adversarial inputs, as one
// suite that runs wherever a GPUDevice is: in the browser (e2e/fixtures/kernels.ts, under
// Playwright: the test browser's WebGPU) and in Node (parity-suite.test.ts, Dawn). The per-kernel
// vitest files go deeper; this suite is what proves a browser's WebGPU computes what Node's does.
// Each check reports instead of throwing, so one mismatch does not hide the others.
import { GpuKernels, type GpuTensor } from './kernels';
import { throwingGpuErrors } from './error-scopes';
import { GlobalTopK } from './global-topk';
import { rowTopK } from './row-topk';
import { nmMask } from './nm-mask';
import { tokenTopK } from './token-topk';
import { maskWords, unpackBits } from './bitmask';
import { runLinear } from './run-linear';
import { csrKernel } from './csr-kernel';
import { csrMatmulReference, denseMatmulReference, toCsr } from './csr';
import { denseMatvecKernel } from './dense-kernel';
import { nm24Kernel } from './nm24-kernel';
import { nm24MatmulReference, toNm24 } from './nm24';
import type { LinearKernel } from './linear-kernel';
import { globalTopK, rowTopKMask, topKMask } from '../pruning/select';
import { nmMask as nmMaskReference } from '../pruning/nm';
import { randomArray } from '../model/tiny-models';

export interface ParityCheck {
  kernel: string;
  input: string;
  ok: boolean;
  /** The first difference, or the error thrown. */
  detail: string;
}

const f32 = (bits: number[]) => new Float32Array(new Uint32Array(bits).buffer);
/** ±0, ±Inf, NaNs of both signs and a payload, a denormal, ±1. */
const ODD = f32([
  0x80000000, 0, 0xffc00000, 0x7f800001, 0x00000001, 0x80000001, 0x7f800000, 0xff800000, 0x3f800000, 0xbf800000,
]);
const ties = (n: number, seed: number, levels = 3) =>
  Float32Array.from(randomArray(n, seed), (v) => Math.round(v * levels));
const abs = (a: Float32Array) => a.map(Math.abs);

/**
 * Token top-k's reference: the protected column, then rowTopKMask's best keep − 1 of the others
 * (model/tokens.ts's selectTokens is the same selection on finite scores, but sorts by
 * subtraction, which orders NaN arbitrarily).
 */
export function tokenReference(row: Float32Array, keep: number, protect: number | null): number[] {
  const others = [...row.keys()].filter((c) => c !== protect);
  const mask = rowTopKMask(
    others.map((c) => row[c]),
    1,
    others.length,
    keep - (protect === null ? 0 : 1),
  );
  return [...(protect === null ? [] : [protect]), ...others.filter((_, i) => mask[i])].sort((a, b) => a - b);
}

/** Null when the masks are equal, else where they first differ. */
function maskDiff(got: ArrayLike<number>, want: ArrayLike<number>): string | null {
  if (got.length !== want.length) return `${got.length} entries, want ${want.length}`;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return `entry ${i}: ${got[i]}, want ${want[i]}`;
  return null;
}

/**
 * Null when got ≈ want, else the first difference: NaN where want is NaN, the same infinity where
 * want is infinite, else |got − want| ≤ tol · scale[i] (scale: Σ|w·x| of that output, the size of
 * the rounding a different summation order can cause; 1e-5 covers f32 sums of thousands of terms).
 */
export function productDiff(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  scale: ArrayLike<number>,
  tol = 1e-5,
): string | null {
  if (got.length !== want.length) return `${got.length} outputs, want ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    const ok = Number.isNaN(w)
      ? Number.isNaN(g)
      : !Number.isFinite(w)
        ? g === w
        : Math.abs(g - w) <= tol * scale[i] + 1e-30;
    if (!ok) return `output ${i}: ${g}, want ${w} (± ${tol * scale[i]})`;
  }
  return null;
}

export async function runParitySuite(device: GPUDevice, onCheck?: (c: ParityCheck) => void): Promise<ParityCheck[]> {
  const kernels = new GpuKernels(device);
  // Few workgroups per dispatch dimension: reaches the 2-D grid path at small sizes (the products
  // use more workgroups than the selections, hence their larger cap).
  const tiny = new GpuKernels(device, { maxWorkgroupsPerDimension: 3 });
  const small = new GpuKernels(device, { maxWorkgroupsPerDimension: 8 });
  const checks: ParityCheck[] = [];

  async function check(kernel: string, input: string, run: () => Promise<string | null>): Promise<void> {
    let detail: string | null;
    try {
      detail = await throwingGpuErrors(device, run);
    } catch (e) {
      detail = `failed: ${e instanceof Error ? e.message : String(e)}`;
    }
    const c = { kernel, input, ok: detail === null, detail: detail ?? 'equal' };
    checks.push(c);
    onCheck?.(c);
  }

  async function withInputs<T>(k: GpuKernels, data: Float32Array[], f: (t: GpuTensor[]) => Promise<T>): Promise<T> {
    const t = data.map((d) => k.upload(d));
    try {
      return await f(t);
    } finally {
      for (const x of t) x.buffer.destroy();
    }
  }

  async function readMask(k: GpuKernels, buffer: GPUBuffer, n: number): Promise<Uint8Array> {
    const words = await k.readWords(buffer, maskWords(n));
    buffer.destroy();
    return unpackBits(words, n);
  }

  // Global top-k: the exact count and ties by position across tensors.
  const globalCases: [string, Float32Array[], number[], boolean, GpuKernels][] = [
    ['±0, ±Inf, NaNs, denormals', [ODD], [0, 1, 5, 9, 10], true, kernels],
    [
      'heavy ties over 3 tensors, one of one element',
      [ties(1, 1), ties(8193, 2), ties(777, 3, 10)],
      [0, 1, 4000, 8970, 8971],
      false,
      kernels,
    ],
    ['an all-zero tensor', [new Float32Array(100), ties(40, 4)], [0, 50, 140], true, kernels],
    ['70,000 entries on 2-D grids', [ties(70000, 11, 50)], [1, 33333, 70000], true, tiny],
  ];
  for (const [input, groups, keeps, magnitude, k] of globalCases) {
    for (const keep of keeps) {
      await check('global top-k', `${input}, keep ${keep}`, () =>
        withInputs(k, groups, async (t) => {
          const sel = new GlobalTopK(k, t, { magnitude });
          sel.run(keep);
          const got = (await sel.readMasks()).flatMap((m) => [...m]);
          sel.destroy();
          return maskDiff(
            got,
            globalTopK(magnitude ? groups.map(abs) : groups, keep).flatMap((m) => [...m]),
          );
        }),
      );
    }
  }

  // Per-row top-k and N:M: rows of odd lengths, NaN rows, 2-D grids.
  const rowCases: [string, Float32Array, number, number, GpuKernels][] = [
    ['1×1', ties(1, 5), 1, 1, kernels],
    ['17×100 with ties', ties(1700, 6), 17, 100, kernels],
    [
      'odd values and a NaN row',
      new Float32Array([...ODD, ...f32(Array(10).fill(0x7fc00000)), ...new Float32Array(10)]),
      3,
      10,
      kernels,
    ],
    ['7×45 on 2-D grids', ties(315, 7), 7, 45, tiny],
  ];
  for (const [input, s, rows, cols, k] of rowCases) {
    for (const keep of [0, 1, Math.floor(cols / 2), cols]) {
      await check('row top-k', `${input}, keep ${keep}`, () =>
        withInputs(k, [s], async ([t]) =>
          maskDiff(await readMask(k, rowTopK(k, t, { rows, cols }, keep), s.length), rowTopKMask(s, rows, cols, keep)),
        ),
      );
    }
    for (const [n, m] of [
      [2, 4],
      [4, 8],
    ]) {
      await check('N:M mask', `${input}, ${n}:${m}`, () =>
        withInputs(k, [s], async ([t]) =>
          maskDiff(
            await readMask(k, nmMask(k, t, { rows, cols }, n, m, { magnitude: true }), s.length),
            nmMaskReference(abs(s), rows, cols, n, m),
          ),
        ),
      );
    }
  }

  // Token top-k: protected column, ties, NaN and infinite scores.
  const tokenCases: [string, Float32Array, number, number, number, number, GpuKernels][] = [
    ['40 queries × 17 tokens, CLS kept', ties(680, 8, 4), 40, 17, 5, 0, kernels],
    ['odd scores, last token kept', ODD, 1, 10, 4, 9, kernels],
    ['7 × 20 on 2-D grids', ties(140, 9), 7, 20, 6, 0, tiny],
  ];
  for (const [input, s, rows, cols, keep, protect, k] of tokenCases) {
    await check('token top-k', input, () =>
      withInputs(k, [s], async ([t]) => {
        const buffer = tokenTopK(k, t, { rows, cols }, keep, protect);
        const got = await k.readWords(buffer, rows * keep);
        buffer.destroy();
        for (let r = 0; r < rows; r++) {
          const diff = maskDiff(
            got.subarray(r * keep, (r + 1) * keep),
            tokenReference(s.subarray(r * cols, (r + 1) * cols), keep, protect),
          );
          if (diff) return `row ${r}: ${diff}`;
        }
        return null;
      }),
    );
  }

  // Products: CSR, 2:4 and our dense matrix-vector kernel against the references.
  const nonFinite = (n: number, seed: number) => {
    const a = randomArray(n, seed);
    a[3 % n] = NaN;
    a[7 % n] = Infinity;
    a[11 % n] = -Infinity;
    return a;
  };
  const productCases: [string, number, number, Float32Array, Float32Array | null, GpuKernels, number[]][] = [
    ['1×1', 1, 1, randomArray(1, 20), null, kernels, [1, 7, 130]],
    ['97×131', 97, 131, randomArray(97 * 131, 21), null, kernels, [1, 7, 130]],
    [
      '40×30, NaN/Inf in W, all-zero rows',
      40,
      30,
      nonFinite(1200, 22).map((v, i) => (i < 90 ? 0 : v)),
      null,
      kernels,
      [1, 7, 130],
    ],
    ['33×50, NaN/Inf in x', 33, 50, randomArray(1650, 23), nonFinite(50 * 130, 24), kernels, [1, 7, 130]],
    ['300×77 on 2-D grids', 300, 77, randomArray(300 * 77, 25), null, small, [1, 7]],
  ];
  async function product(
    kernel: string,
    input: string,
    k: GpuKernels,
    make: () => LinearKernel,
    reference: (xT: Float32Array, n: number) => Float32Array,
    scale: (xT: Float32Array, n: number) => Float32Array,
    x: Float32Array | null,
    ns: number[],
  ) {
    for (const n of ns) {
      await check(kernel, `${input}, n = ${n}`, async () => {
        const lin = make();
        const xT = x ? x.subarray(0, lin.cols * n) : randomArray(lin.cols * n, 30 + n);
        try {
          return productDiff(await runLinear(k, lin, xT, n), reference(xT, n), scale(xT, n));
        } finally {
          lin.destroy();
        }
      });
    }
  }
  for (const [input, rows, cols, w, x, k, ns] of productCases) {
    const magnitude = abs(w);
    const csrMask = topKMask(magnitude, Math.round(rows * cols * 0.1));
    const csr = toCsr(w, csrMask, rows, cols);
    const absCsr = { ...csr, values: abs(csr.values) };
    await product(
      'CSR product (90% pruned)',
      input,
      k,
      () => csrKernel(k, csr),
      (xT, n) => csrMatmulReference(csr, xT, n),
      (xT, n) => csrMatmulReference(absCsr, abs(xT), n),
      x,
      ns,
    );
    const nm = toNm24(w, nmMaskReference(magnitude, rows, cols, 2, 4), rows, cols);
    const absNm = { ...nm, values: abs(nm.values) };
    await product(
      '2:4 product',
      input,
      k,
      () => nm24Kernel(k, nm),
      (xT, n) => nm24MatmulReference(nm, xT, n),
      (xT, n) => nm24MatmulReference(absNm, abs(xT), n),
      x,
      ns,
    );
    await product(
      'dense matrix-vector',
      input,
      k,
      () => denseMatvecKernel(k, w, rows, cols),
      (xT, n) => denseMatmulReference(w, rows, cols, xT, n),
      (xT, n) => denseMatmulReference(magnitude, rows, cols, abs(xT), n),
      x,
      [1],
    );
  }
  return checks;
}
