// The fetch the worker hands to the engine's fetchModelFiles: cancellable, reports the bytes
// downloaded across all files, and treats an HTML page served for a missing file (a dev server's
// single-page-app fallback) as the 404 it stands for.
import type { Progress, ProgressFn } from './api';

export type BytesProgress = (loaded: number, total: number | null) => void;

export function trackedFetch(
  signal: AbortSignal,
  onBytes: BytesProgress,
  fetchImpl: typeof fetch = fetch,
): typeof fetch {
  const files = new Map<string, { loaded: number; total: number | null }>();
  const report = () => {
    let loaded = 0;
    let total: number | null = 0;
    for (const f of files.values()) {
      loaded += f.loaded;
      total = total === null || f.total === null ? null : total + f.total;
    }
    onBytes(loaded, total);
  };

  const tracked = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    signal.throwIfAborted();
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    // Without text/html or */* in Accept, Vite's dev and preview servers answer a missing file with
    // 404 instead of index.html.
    const res = await fetchImpl(input, {
      ...init,
      signal,
      headers: { Accept: 'application/json, application/octet-stream' },
    });
    if (!res.ok) return res;
    const path = new URL(url, 'http://x').pathname;
    if (/text\/html/.test(res.headers.get('content-type') ?? '') && !/\.html?$/.test(path)) {
      await res.body?.cancel();
      return new Response(null, { status: 404, statusText: 'Not Found' });
    }
    const length = Number(res.headers.get('content-length'));
    const entry = { loaded: 0, total: Number.isFinite(length) && length > 0 ? length : null };
    files.set(url, entry);
    report();
    if (!res.body) return res;
    const chunks: Uint8Array[] = [];
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      entry.loaded += value.length;
      report();
    }
    const bytes = new Uint8Array(entry.loaded);
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.length;
    }
    return new Response(bytes, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return tracked as typeof fetch;
}

/** Limits how often progress crosses to the page: on a new label, at the end, or every `step`. */
export function throttle(fn: ProgressFn, step = 0.01): ProgressFn {
  let last: Progress | null = null;
  return (p) => {
    const small =
      last !== null &&
      p.label === last.label &&
      p.fraction !== null &&
      last.fraction !== null &&
      p.fraction < 1 &&
      p.fraction - last.fraction < step;
    if (small) return;
    last = p;
    fn(p);
  };
}

/** "312 MB of 548 MB", or "312 MB" while the total is unknown. */
export function bytesText(loaded: number, total: number | null, format: (n: number) => string): string {
  return total ? `${format(loaded)} of ${format(total)}` : format(loaded);
}

/**
 * Byte progress of a download as the page's Progress: "Downloading hf:org/name · 312 MB of 548 MB".
 * The label carries the bytes, so it changes with every chunk; this passes one report every
 * `intervalMs` (and the last one) instead of each.
 */
export function downloadProgress(
  name: string,
  onProgress: ProgressFn,
  format: (n: number) => string,
  intervalMs = 150,
  now: () => number = () => performance.now(),
): BytesProgress {
  let last = -Infinity;
  return (loaded, total) => {
    const t = now();
    const finished = total !== null && loaded >= total;
    if (!finished && t - last < intervalMs) return;
    last = t;
    onProgress({
      label: `Downloading ${name} · ${bytesText(loaded, total, format)}`,
      fraction: total ? loaded / total : null,
    });
  };
}
