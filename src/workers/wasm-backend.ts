// TensorFlow.js's WASM backend (XNNPACK) for the worker: where the browser has no WebGPU, or only a
// software one, it measures a model tens of times faster than the plain-JS CPU backend (README,
// "Speed"). Its binaries are bundled by Vite (`?url`) so the page loads them from its own origin.
// On a cross-origin isolated page it runs the threaded SIMD build on several cores (./wasm-threads.ts
// says how many); elsewhere, or when the threaded build cannot start, the single-threaded SIMD one.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import threadedFactory from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import threadedFactorySource from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';
import { installWasmKernels } from '../engine/backends/wasm-kernels';
import { useImportedMemory } from '../engine/backends/wasm-simd';
import { yieldOnRead } from '../engine/backends/wasm-reads';
import { planThreads } from './wasm-threads';

/** The WASM backend running, on how many threads and why not more; or why it could not start. */
export type WasmStart = { threads: number; threadsReason: string | null } | { failure: string };

/** The threaded build's pthread workers load, start and fail within this; past it, one thread is used. */
const THREADED_START_MS = 30_000;

const DECLARATION = /^\s*var WasmBackendModuleThreadedSimd\s*=\s*/;

/**
 * Each pthread worker of the threaded build runs a blob that TensorFlow.js writes as
 * `var WasmBackendModuleThreadedSimd = ` + the Emscripten factory's `toString()`. Bundled and
 * minified, that factory is a closure over a renamed variable of its module (its `_scriptDir`), which
 * the blob does not define: every pthread worker dies with a ReferenceError and the backend never
 * starts. Its `toString` is therefore the published script itself, which defines that variable.
 */
function selfContainedThreadedFactory(): void {
  if (!DECLARATION.test(threadedFactorySource))
    throw new Error('the threaded WASM script does not start by declaring its factory');
  const text = threadedFactorySource.replace(DECLARATION, '');
  Object.defineProperty(threadedFactory, 'toString', { value: () => text, configurable: true });
}

/**
 * The build gives XNNPACK at most half of `navigator.hardwareConcurrency` threads (it takes every
 * core to be two hyperthreads), whatever setThreadsCount asked, reading it once as its module starts:
 * on a 2-core machine, one thread. While the backend starts, this worker's navigator reports twice
 * `threads`, so the build takes the count asked; `restore` puts the browser's figure back.
 */
function reportCoresFor(threads: number): () => void {
  const own = Object.getOwnPropertyDescriptor(navigator, 'hardwareConcurrency');
  Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * threads });
  return () => {
    if (own) Object.defineProperty(navigator, 'hardwareConcurrency', own);
    else delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  };
}

/**
 * The threaded build exports no memory: it creates a shared one and passes it in the imports of
 * WebAssembly.instantiate, where this catches it for the engine's SIMD kernels (they work on the
 * backend's tensors in that memory). `restore` puts WebAssembly.instantiate back.
 */
function catchImportedMemory(): () => void {
  const instantiate = WebAssembly.instantiate;
  const seeing = (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
    const memory = imports?.env?.memory;
    if (memory instanceof WebAssembly.Memory) useImportedMemory(memory);
    return instantiate(source as BufferSource, imports);
  };
  WebAssembly.instantiate = seeing as typeof WebAssembly.instantiate;
  return () => {
    WebAssembly.instantiate = instantiate;
  };
}

/**
 * Starts the threaded build on `threads` threads; returns why it could not, or null. A pthread
 * worker that fails reports an error to this worker (Emscripten rethrows it here), and the start
 * never settles: the first such error, or the time limit, ends the wait.
 */
async function startThreaded(threads: number): Promise<string | null> {
  let onError: ((event: ErrorEvent) => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let restoreCores: (() => void) | undefined;
  let restoreInstantiate: (() => void) | undefined;
  try {
    selfContainedThreadedFactory();
    restoreCores = reportCoresFor(threads);
    restoreInstantiate = catchImportedMemory();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    setThreadsCount(threads);
    const failed = new Promise<string>((resolve) => {
      onError = (event) => {
        // Handled here: the start falls back to one thread, so the page need not see it.
        event.preventDefault();
        const inner = (event.error as { message?: string } | null)?.message;
        resolve(`a pthread worker failed: ${inner ?? event.message}`);
      };
      self.addEventListener('error', onError);
      timer = setTimeout(() => resolve(`it did not start in ${THREADED_START_MS / 1000} s`), THREADED_START_MS);
    });
    const started = tf.setBackend('wasm').then((ok) => (ok ? null : 'TensorFlow.js could not start it'));
    return await Promise.race([started, failed]);
  } catch (e) {
    return (e as Error).message;
  } finally {
    restoreCores?.();
    restoreInstantiate?.();
    if (onError) self.removeEventListener('error', onError);
    clearTimeout(timer);
  }
}

/** One task of this worker's event loop (a message to itself: no timer clamping), so that requests queued meanwhile are received. */
function nextTask(): Promise<void> {
  return new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** The engine's own kernels for `threads`, and reads that let the worker receive requests meanwhile. */
function prepare(threads: number): void {
  installWasmKernels({ threads });
  yieldOnRead(nextTask);
}

let starting: Promise<WasmStart> | null = null;

/**
 * Starts the WASM backend (once per worker; later calls return the first answer). `asked`: a thread
 * count forced by the page (`?threads=N`), else planThreads' choice (one per physical core, at most 8).
 */
export async function startWasm(asked?: number | null): Promise<WasmStart> {
  const again = starting !== null;
  starting ??= start(asked);
  const result = await starting;
  // A later call (after WebGPU was lost, say) switches back to the backend the first one started.
  if (again && !('failure' in result) && tf.getBackend() !== 'wasm' && !(await tf.setBackend('wasm')))
    return { failure: 'the WASM backend of TensorFlow.js failed to start again' };
  return result;
}

async function start(asked?: number | null): Promise<WasmStart> {
  try {
    // tfjs wants a path for every binary, and picks one by the flags below.
    setWasmPaths({
      'tfjs-backend-wasm.wasm': plainWasm,
      'tfjs-backend-wasm-simd.wasm': simdWasm,
      'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdWasm,
    });
    const plan = planThreads({
      isolated: self.crossOriginIsolated === true,
      cores: typeof navigator === 'undefined' ? undefined : navigator.hardwareConcurrency,
      asked,
    });
    if (plan.threads > 1) {
      const failure = await startThreaded(plan.threads);
      if (failure === null) {
        await tf.ready();
        const threads = getThreadsCount();
        prepare(threads);
        return {
          threads,
          threadsReason: threads === plan.threads ? plan.reason : `the WASM build gave ${threads} of ${plan.threads}`,
        };
      }
      plan.threads = 1;
      plan.reason = `the threaded WASM build failed to start (${failure})`;
    }
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) return { failure: 'the WASM backend of TensorFlow.js failed to start' };
    await tf.ready();
    prepare(1);
    // Not getThreadsCount(): a threaded start given up on may still finish and overwrite it.
    return { threads: 1, threadsReason: plan.reason };
  } catch (e) {
    return { failure: `WASM failed: ${(e as Error).message}` };
  }
}
