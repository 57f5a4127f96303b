// Small pure helpers of the worker.

/** Where public/models/<id>/ is served, for a worker whose script is at `workerHref`. */
export function modelBaseUrl(id: string, workerHref: string, base: string = import.meta.env?.BASE_URL ?? '/'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id))
    throw new Error(`"${id}" is not a model id (letters, digits, ".", "_" and "-")`);
  return new URL(`${base.endsWith('/') ? base : `${base}/`}models/${id}/`, new URL(workerHref).origin).href;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toPrecision(3)} ${units[u]}`;
}

/**
 * Examples per evaluation batch: about `tokens` tokens each. Small batches keep progress and Cancel
 * responsive on slow adapters (SwiftShader runs a 250-image ViT batch in ~30 s) at no cost in
 * throughput there; the engine checks for cancellation between batches.
 */
export function evalBatchSize(tokensPerExample: number, tokens = 1024): number {
  return Math.max(1, Math.floor(tokens / Math.max(1, tokensPerExample)));
}
