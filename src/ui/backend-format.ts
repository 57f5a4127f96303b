// What the status bar says about the backend beside its name: the WASM backend's thread count.
import type { BackendInfo } from '../workers/client';

/** "1 thread", "4 threads". */
export function formatThreads(threads: number): string {
  return `${threads} ${threads === 1 ? 'thread' : 'threads'}`;
}

/**
 * The WASM backend's threads as shown beside its name ("2 threads") and its tooltip (why not more,
 * when the worker said); null for another backend, or a worker that did not say.
 */
export function backendThreads(backend: Pick<BackendInfo, 'name' | 'threads' | 'threadsReason'>): {
  text: string;
  title: string;
} | null {
  if (backend.name !== 'wasm' || backend.threads == null) return null;
  const text = formatThreads(backend.threads);
  const title = backend.threadsReason
    ? `WASM on ${text}: ${backend.threadsReason}`
    : backend.threads > 1
      ? `WASM on ${text}: one per CPU core, at most 8 (the threaded SIMD build)`
      : `WASM on ${text}`;
  return { text, title };
}
