// The engine's SIMD kernels (assembly/simd.ts) instantiated on the WASM backend's own memory, so
// they read and write its tensors where they lie. The module is compiled in advance and shipped as
// base64 (simd-binary.ts), a few kilobytes: no fetch, the same in a worker, in Node and in tests.
import { SIMD_PLAIN, SIMD_SHARED } from './simd-binary';

/** Byte offsets into the backend's memory; counts in elements. */
export interface SimdKernels {
  erf(x: number, out: number, n: number): void;
  matmul(a: number, b: number, c: number, batch: number, m: number, k: number, n: number): void;
  gemm(
    a: number,
    b: number,
    c: number,
    bias: number,
    pack: number,
    m: number,
    k: number,
    n: number,
    transposeB: number,
    addBias: number,
  ): void;
  geluErf(x: number, out: number, n: number): void;
  geluTanh(x: number, out: number, n: number): void;
  silu(x: number, out: number, n: number): void;
  gram(x: number, out: number, rows: number, d: number): void;
  expSums(x: number, sums: number, tops: number, rows: number, n: number): void;
  sumSquares(x: number, out: number, rows: number, d: number): void;
  cholesky64(a: number, l: number, n: number): number;
  rowsTopK(x: number, rows: number, cols: number, keep: number, numbers: number, mask: number): void;
  wandaScores(w: number, norm: number, out: number, rows: number, cols: number): void;
  lowerInverse64(l: number, x: number, n: number): void;
  layerNorm(x: number, gamma: number, beta: number, out: number, rows: number, d: number, eps: number): void;
  attention(
    q: number,
    k: number,
    v: number,
    out: number,
    scores: number,
    batch: number,
    t: number,
    heads: number,
    kvHeads: number,
    dh: number,
    qStride: number,
    kvStride: number,
    causal: number,
    scale: number,
  ): void;
}

const kernels = new WeakMap<object, SimdKernels | null>();
let importedMemory: WebAssembly.Memory | null = null;

/**
 * The memory the backend's module was given, where the module exports none: the threaded build
 * imports its shared memory from the script that starts it (src/workers/wasm-backend.ts sees it
 * passed to WebAssembly.instantiate).
 */
export function useImportedMemory(memory: WebAssembly.Memory): void {
  importedMemory = memory;
}

/**
 * The kernels on this backend's memory; null where that memory is out of reach or the module does
 * not instantiate on it, and then the stock kernels stay.
 */
export function simdKernelsOf(backend: object): SimdKernels | null {
  let k = kernels.get(backend);
  if (k === undefined) {
    const exported = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
    const memory = exported instanceof WebAssembly.Memory ? exported : importedMemory;
    try {
      k = memory ? instantiateSimd(memory) : null;
    } catch {
      k = null;
    }
    kernels.set(backend, k);
  }
  return k;
}

const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

export function instantiateSimd(memory: WebAssembly.Memory): SimdKernels {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const module = new WebAssembly.Module(decode(shared ? SIMD_SHARED : SIMD_PLAIN));
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
}

/** Values a matrix passes through keptScratch's memory at a time, in bands of rows (4 MB of f32). */
const BAND_VALUES = 1 << 20;

let kept: { kernels: SimdKernels; memory: WebAssembly.Memory } | null | undefined;

/**
 * The kernels on one memory kept for work on plain arrays between calls, grown to at least `bytes`:
 * what is in it is the caller's until the next call (one instance, not a module compiled per
 * call). Null where the module does not instantiate.
 */
function keptScratch(bytes: number): { kernels: SimdKernels; memory: WebAssembly.Memory } | null {
  if (kept === undefined) kept = simdScratch(bytes);
  if (kept && kept.memory.buffer.byteLength < bytes)
    kept.memory.grow(Math.ceil((bytes - kept.memory.buffer.byteLength) / 65536));
  return kept;
}

/**
 * A kernel's output over x [rows, cols] (f32), a band of rows at a time in keptScratch's memory:
 * each band copied to offset 0, then `run(kernels, memory, rows of the band, extraAt, outAt)`,
 * with `extraBytes` free at extraAt and the band's output, `Out` values of [rows, cols], read back
 * from outAt. Null where the module does not instantiate.
 */
export function byRowBands<T extends Float32Array | Uint8Array>(
  x: Float32Array,
  rows: number,
  cols: number,
  Out: { new (n: number): T; new (buffer: ArrayBuffer, at: number, n: number): T; BYTES_PER_ELEMENT: number },
  extraBytes: number,
  run: (kernels: SimdKernels, memory: WebAssembly.Memory, n: number, extraAt: number, outAt: number) => void,
): T | null {
  if (rows * cols === 0) return new Out(0);
  const band = Math.max(1, Math.min(rows, Math.floor(BAND_VALUES / cols)));
  const extraAt = 4 * band * cols;
  const outAt = extraAt + 4 * Math.ceil(extraBytes / 4);
  const scratch = keptScratch(outAt + Out.BYTES_PER_ELEMENT * band * cols);
  if (!scratch) return null;
  const { kernels, memory } = scratch;
  const out = new Out(rows * cols);
  for (let r = 0; r < rows; r += band) {
    const n = Math.min(band, rows - r);
    new Float32Array(memory.buffer, 0, n * cols).set(x.subarray(r * cols, (r + n) * cols));
    run(kernels, memory, n, extraAt, outAt);
    out.set(new Out(memory.buffer, outAt, n * cols), r * cols);
  }
  return out;
}

/**
 * The kernels on a fresh memory of at least `bytes` (zero-filled), for numeric work on plain arrays
 * rather than tensors; null where the module does not instantiate (no WebAssembly SIMD).
 */
export function simdScratch(bytes: number): { kernels: SimdKernels; memory: WebAssembly.Memory } | null {
  try {
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
    return { kernels: instantiateSimd(memory), memory };
  } catch {
    return null;
  }
}
