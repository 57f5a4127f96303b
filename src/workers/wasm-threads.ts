// How many threads TensorFlow.js's WASM backend (XNNPACK) computes on in the worker, and why not
// more. Pure, so it is unit-tested apart from the browser (./wasm-backend.ts starts the backend).

/**
 * The most threads: the threaded build starts a pool of 8 pthread workers with the backend; a ninth
 * thread would need a worker started on demand while the thread asking for it waits, and a worker
 * starts only once the thread that made it returns to its event loop.
 */
export const MAX_WASM_THREADS = 8;

export interface ThreadPlan {
  /** Threads to ask XNNPACK for; 1 runs the single-threaded SIMD build. */
  threads: number;
  /** Why fewer than the machine's cores (up to MAX_WASM_THREADS), in words fit to show; null otherwise. */
  reason: string | null;
}

/**
 * The thread count for the WASM backend. `isolated`: the scope is cross-origin isolated
 * (`self.crossOriginIsolated`), without which there is no SharedArrayBuffer and so no WASM threads;
 * `cores`: `navigator.hardwareConcurrency`; `asked`: a count forced by the page (`?threads=N`).
 */
export function planThreads({
  isolated,
  cores,
  asked,
}: {
  isolated: boolean;
  cores: number | undefined;
  asked?: number | null;
}): ThreadPlan {
  if (!isolated)
    return {
      threads: 1,
      reason:
        'the page is not cross-origin isolated (served without the Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), so WASM has no shared memory for threads',
    };
  if (asked != null && Number.isInteger(asked) && asked >= 1) {
    const threads = Math.min(asked, MAX_WASM_THREADS);
    return {
      threads,
      reason: `?threads=${asked} in the page URL${asked > MAX_WASM_THREADS ? ` (at most ${MAX_WASM_THREADS})` : ''}`,
    };
  }
  if (!cores || !Number.isFinite(cores) || cores < 1)
    return { threads: 1, reason: 'the browser does not say how many CPU cores it has' };
  // One thread per physical core, taken as half the logical ones (TensorFlow.js's own rule): on 2
  // logical cores here, 2 threads ran vit-fashion at 0.57× and gpt-bytes at 1.15× of one thread, as
  // every XNNPACK call pays for waking the other thread (README, "Speed").
  const physical = Math.floor(cores / 2);
  if (physical < 2)
    return {
      threads: 1,
      reason: `the browser reports ${Math.floor(cores)} logical core${cores >= 2 ? 's' : ''}: one thread per physical core (half the logical ones) leaves one`,
    };
  return { threads: Math.min(physical, MAX_WASM_THREADS), reason: null };
}

/** `?threads=N` from the page's query: a whole number ≥ 1, else null (the machine's cores are used). */
export function threadsFromQuery(search: string): number | null {
  const raw = new URLSearchParams(search).get('threads');
  if (raw === null || !/^\d+$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return n >= 1 ? n : null;
}
