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

/** FLOPs a batch of evaluation holds at most: a few seconds of WASM on one core. */
export const BATCH_FLOPS = 25e9;

/**
 * Examples per evaluation batch: about `tokens` tokens each, fewer for a model whose tokens cost
 * more than BATCH_FLOPS / tokens (GPT-2 small: ~90 tokens, so one window a batch). Small batches
 * keep progress, estimates and Cancel responsive on slow adapters (SwiftShader runs a 250-image ViT
 * batch in ~30 s) at no cost in throughput there; the engine checks for cancellation between batches.
 */
export function evalBatchSize(tokensPerExample: number, flopsPerToken = 0, tokens = 1024): number {
  const held = flopsPerToken > 0 ? Math.min(tokens, BATCH_FLOPS / flopsPerToken) : tokens;
  return Math.max(1, Math.floor(held / Math.max(1, tokensPerExample)));
}

/** A model's dense FLOPs per token, from its cost report. */
export const flopsPerToken = (cost: { denseFlops: number; tokens: number }) => cost.denseFlops / cost.tokens;

/**
 * The memory a tab may use for a model before the worker reads it a block at a time: what GPT-2
 * small whole took in Chromium with room to spare (4.87 GB peak over every process), below which
 * WebAssembly's 4 GB heap and an ordinary machine's memory both hold. `?memory-budget=` changes it.
 */
export const TAB_MEMORY_BUDGET = 4.5e9;
