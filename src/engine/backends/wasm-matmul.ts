// TensorFlow.js's WASM BatchMatMul runs XNNPACK's fast kernel only for one plain product of rank 3
// with a batch of 1 on both sides; a transposed operand or a batch (attention's heads × windows,
// a [B, T, d] activation times a [d, n] weight) falls to a scalar triple loop ~10× slower. This
// kernel keeps every product on a fast path: a batch that multiplies one shared matrix (a linear
// layer's [B, T, d] activation times its weight) is folded into the rows of one product, on one
// thread the engine's blocked SIMD kernel (assembly/simd.ts gemm(): 128-bit like XNNPACK's, but
// reading a transposed weight as it lies where XNNPACK needs it transposed and packed again at each
// call, and faster here: 2048×768·768×768 at 40–41 GFLOP/s against 38–40, 2040×64·64×64 at 34–41
// against 24–26), on more XNNPACK's product, which shares the work between threads. Other
// operands are transposed physically (cheap, O(n²)); a true batch of small slices runs in one call
// of the engine's SIMD matmul(), of large ones as one XNNPACK product per slice on views into the
// operands' memory (no copies).
// Measured on this machine's CPU: 2048×128 · 128×384 with transposeB: 93 ms → 10 ms; attention's
// q·kᵀ over 16 windows × 4 heads of 128 × 32: 24 ms → 4.4 ms.
import * as tf from '@tensorflow/tfjs';
import { offsetOf, replaceWasmKernel, type WasmBackendInternals as WasmBackend } from './wasm-backend';
import { type SimdKernels, simdKernelsOf } from './wasm-simd';

type Product = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  ta: boolean,
  tb: boolean,
  outId: number,
) => void;

let installed = false;

/**
 * Work (m·k·n) a slice below which a batch goes to the engine's SIMD kernel in one call rather than
 * one XNNPACK call a slice (each packs its slice of b afresh). Medians on one thread here, batch ×
 * m×k×n, XNNPACK → SIMD: 480 × 17×16×17 (vit-fashion's attention) 4.2 → 0.30 ms; 64 × 128×32×128
 * (gpt-bytes') 3.8 → 1.6 ms; 60 × 128×64×128 (GPT-2 small's, 5 windows) 5.9 → 2.8 ms; 12 ×
 * 512×64×512 13.2 → 10.0 ms; at 4 × 1024×64×1024 XNNPACK's blocked kernel is ahead (15.5 against
 * 21.5 ms).
 */
const SIMD_SLICE_WORK = 1 << 25;

/**
 * Work (m·k·n) below which a batch's slices stay on the stock loop. On one thread one XNNPACK
 * call per slice wins from about 4,600 (17×16×17: even; 32³: 1.8×; 128×32×128: 9×). On two threads
 * each call also wakes the other thread, about 0.3 ms on this 2-core machine, which the loop's
 * ~0.7 ns per multiply-add repays only near half a million.
 */
const sliceWork = (threads: number) => (threads > 1 ? 1 << 19 : 1 << 12);

export function installFastWasmMatMul({ threads = 1 }: { threads?: number } = {}): void {
  if (installed) return;
  const minSliceWork = sliceWork(threads);
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  const reshape = tf.getKernel('Reshape', 'wasm');
  if (!original || !transpose || !reshape) throw new Error('installFastWasmMatMul: the WASM backend is not registered');
  installed = true;
  let product: Product | null = null;
  replaceWasmKernel({
    kernelName: 'BatchMatMul',
    setupFunc: original.setupFunc,
    kernelFunc: ({ inputs, backend: wasm, attrs }) => {
      const backend = wasm as WasmBackend;
      // The backend is running by the time this kernel is installed, so its setup hook has passed.
      product ??= backend.wasm.cwrap('BatchMatMul', null, [
        'number',
        'array',
        'number',
        'number',
        'array',
        'number',
        'number',
        'number',
        'number',
      ]) as Product;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const made: tf.TensorInfo[] = [];
      const keep = (t: tf.TensorInfo) => {
        made.push(t);
        return t;
      };
      const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
        const perm = t.shape.map((_, i) => i);
        perm.push(...perm.splice(-2).reverse());
        return keep(transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as tf.TensorInfo);
      };
      const as = (t: tf.TensorInfo, shape: number[]) =>
        keep(reshape.kernelFunc({ inputs: { x: t }, backend, attrs: { shape } }) as tf.TensorInfo);
      // The stock kernel on operands already laid out (transposes done above).
      const plain = (x: tf.TensorInfo, y: tf.TensorInfo) =>
        original.kernelFunc({
          inputs: { a: x, b: y },
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        }) as tf.TensorInfo;
      const a = transposeA ? swapLast(inputs.a!) : inputs.a!;
      const b = inputs.b!;
      const [m, k] = a.shape.slice(-2) as [number, number];
      const [kb, n] = (transposeB ? b.shape.slice(-2).reverse() : b.shape.slice(-2)) as [number, number];
      if (k !== kb)
        throw new Error(
          `matMul: inner shapes ${k} and ${kb} of [${inputs.a!.shape}] and [${b.shape}] (transposeA=${transposeA}, transposeB=${transposeB}) differ`,
        );
      const outerA = a.shape.slice(0, -2);
      const outerB = b.shape.slice(0, -2);
      const batchB = outerB.reduce((x, y) => x * y, 1);
      const simd = simdKernelsOf(backend);
      const floats = a.dtype === 'float32' && b.dtype === 'float32';
      let result: tf.TensorInfo;
      if (k === 0) {
        // An empty sum: zeros (the product kernels would read no input and write nothing).
        result = backend.makeOutput([...tf.backend_util.assertAndGetBroadcastShape(outerA, outerB), m, n], 'float32');
        backend.typedArrayFromHeap(result).fill(0);
      } else if (floats && batchB === 1 && outerB.length <= outerA.length && simd && threads === 1) {
        // Every slice of a times the one b: the slices' rows stacked are one product, b read
        // transposed where it is, in the engine's blocked kernel.
        result = backend.makeOutput([...outerA, m, n], 'float32');
        linear(backend, simd, a, b, null, result, transposeB);
      } else {
        const bm = transposeB ? swapLast(b) : b;
        if (!floats) {
          result = plain(a, bm);
        } else if (batchB === 1 && outerB.length <= outerA.length) {
          // The same stacking, on the threaded build: XNNPACK's product spreads over the threads.
          const rows = outerA.reduce((x, y) => x * y, 1) * m;
          const out = keep(plain(as(a, [1, rows, k]), as(bm, [1, k, n])));
          result = reshape.kernelFunc({
            inputs: { x: out },
            backend,
            attrs: { shape: [...outerA, m, n] },
          }) as tf.TensorInfo;
        } else if (!sameBatch(outerA, outerB)) {
          result = slicewise(backend, product, a, bm, m, k, n);
        } else if (m * k * n < SIMD_SLICE_WORK && simd) {
          result = batched(backend, simd, a, bm, m, k, n);
        } else if (m * k * n >= minSliceWork) {
          result = slicewise(backend, product, a, bm, m, k, n);
        } else {
          result = plain(a, bm);
        }
      }
      for (const t of made) backend.disposeData(t.dataId);
      return result;
    },
  });
}

/** Floats of the scratch gemm() packs b into: GEMM_BLOCK in assembly/simd.ts. */
const GEMM_PACK = 131072;

/**
 * out = a·b (+ bias [n]) for a [..., m, k] and b [k, n] or, `transposeB`, [n, k], all of a's rows
 * as one product in the engine's blocked SIMD kernel.
 */
export function linear(
  backend: WasmBackend,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  bias: tf.TensorInfo | null,
  out: tf.TensorInfo,
  transposeB: boolean,
): void {
  const k = a.shape[a.shape.length - 1]!;
  const n = out.shape[out.shape.length - 1]!;
  const rows = k === 0 ? 0 : tf.util.sizeFromShape(a.shape) / k;
  if (rows * n === 0) return;
  const pack = backend.makeOutput([GEMM_PACK], 'float32');
  const at = (t: tf.TensorInfo) => offsetOf(backend, t);
  try {
    simd.gemm(at(a), at(b), at(out), bias ? at(bias) : 0, at(pack), rows, k, n, +transposeB, +!!bias);
  } finally {
    backend.disposeData(pack.dataId);
  }
}

/** The whole batch in one call of the engine's SIMD kernel. */
function batched(
  backend: WasmBackend,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  m: number,
  k: number,
  n: number,
): tf.TensorInfo {
  const out = backend.makeOutput([...a.shape.slice(0, -2), m, n], 'float32');
  const at = (t: tf.TensorInfo) => offsetOf(backend, t);
  simd.matmul(at(a), at(b), at(out), tf.util.sizeFromShape(a.shape.slice(0, -2)), m, k, n);
  return out;
}

/** The same batch axes on both sides: what the stock loop handles (it broadcasts nothing). */
function sameBatch(outerA: number[], outerB: number[]): boolean {
  return outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
}

/**
 * One XNNPACK product per output slice, the batch axes broadcast; each operand slice registered as
 * a tensor that views the operand's memory. Disposing a view frees nothing but the operator
 * XNNPACK cached for it.
 */
function slicewise(
  backend: WasmBackend,
  product: Product,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  m: number,
  k: number,
  n: number,
): tf.TensorInfo {
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  const aAt = offsetOf(backend, a);
  const bAt = offsetOf(backend, b);
  const outAt = offsetOf(backend, out);
  const aSlice = sliceOf(outerA, outer);
  const bSlice = sliceOf(outerB, outer);
  const aShape = new Uint8Array(Int32Array.of(1, m, k).buffer);
  const bShape = new Uint8Array(Int32Array.of(1, k, n).buffer);
  const { registerTensor, disposeData } = backend.wasm.tfjs;
  const slices = outer.reduce((x, y) => x * y, 1);
  for (let s = 0; s < slices; s++) {
    const ids = [backend.dataIdNextNumber++, backend.dataIdNextNumber++, backend.dataIdNextNumber++] as const;
    registerTensor(ids[0], m * k, aAt + 4 * aSlice(s) * m * k);
    registerTensor(ids[1], k * n, bAt + 4 * bSlice(s) * k * n);
    registerTensor(ids[2], m * n, outAt + 4 * s * m * n);
    product(ids[0], aShape, 3, ids[1], bShape, 3, false, false, ids[2]);
    for (const id of ids) disposeData(id);
  }
  return out;
}

/** Which slice of an operand with batch axes `own` output slice `s` of batch axes `outer` reads (broadcasting). */
function sliceOf(own: number[], outer: number[]): (s: number) => number {
  const padded = [...Array<number>(outer.length - own.length).fill(1), ...own];
  const strides = padded.map((_, i) => padded.slice(i + 1).reduce((x, y) => x * y, 1));
  return (s) => {
    let at = 0;
    for (let d = outer.length - 1; d >= 0; d--) {
      const i = s % outer[d]!;
      s = Math.floor(s / outer[d]!);
      if (padded[d] !== 1) at += i * strides[d]!;
    }
    return at;
  };
}
