// The engine's SIMD kernels (assembly/simd.ts) instantiated on the WASM backend's own memory, so
// they read and write its tensors where they lie. The module is compiled in advance and shipped as
// base64 (simd-binary.ts), a few kilobytes: no fetch, the same in a worker, in Node and in tests.
import { SIMD_PLAIN, SIMD_SHARED } from './simd-binary';

/** Byte offsets into the backend's memory; counts in elements. */
export interface SimdKernels {
  erf(x: number, out: number, n: number): void;
  matmul(a: number, b: number, c: number, batch: number, m: number, k: number, n: number): void;
}

const kernels = new WeakMap<object, SimdKernels | null>();

/**
 * The kernels on this backend's memory, or null where its module does not export it: the threaded
 * build imports its memory and hands it to nobody, so there the stock kernels stay.
 */
export function simdKernelsOf(backend: object): SimdKernels | null {
  let k = kernels.get(backend);
  if (k === undefined) {
    const memory = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
    k = memory instanceof WebAssembly.Memory ? instantiateSimd(memory) : null;
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
