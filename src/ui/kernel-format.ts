// How the page words the pruned model's kernel choices (engine/gpu/sparse-linears.ts): which
// product each pruned layer ran with in the evaluation, chosen by timing every candidate on this
// device. Plain functions, so the wording is unit-tested without a browser.
import type { LinearChoice, LinearPath } from '../workers/api';
import { formatInteger, formatPercent } from './format';

export const PATH_NAMES: Record<LinearPath, string> = {
  tfjs: 'TF.js dense',
  dense: 'our dense',
  csr: 'sparse (CSR)',
  nm24: '2:4 compressed',
};

/** "7 of 24 layer products ran sparse (CSR 5, 2:4 compressed 2); the rest on TF.js dense." */
export function describeKernels(choices: LinearChoice[]): string {
  if (choices.length === 0) return 'No pruned layer ran on the GPU yet.';
  const counts = new Map<LinearPath, number>();
  for (const c of choices) counts.set(c.path, (counts.get(c.path) ?? 0) + 1);
  const ours = choices.length - (counts.get('tfjs') ?? 0);
  const parts = (['csr', 'nm24', 'dense'] as const)
    .filter((p) => counts.get(p))
    .map((p) => `${PATH_NAMES[p]} ${counts.get(p)}`);
  const rest = ours === choices.length ? '' : '; the rest on TF.js dense, which measured faster';
  return `${ours} of ${choices.length} layer products ran on our kernels${parts.length ? ` (${parts.join(', ')})` : ''}${rest}.`;
}

/** 0.01234 → "12.3 µs", 1.5 → "1.50 ms". */
export function formatKernelMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toPrecision(3)} µs` : `${ms.toPrecision(3)} ms`;
}

export interface KernelRow {
  layer: string;
  tokens: string;
  kept: string;
  ran: string;
  /** Each measured candidate and its time per product, the chosen one first. */
  timings: string;
}

/**
 * Layer names without what they all share: "vit.encoder.layer.0.attention.attention.query.weight"
 * among its model's others → "0.attention.attention.query".
 */
function shortNames(names: string[]): string[] {
  const stems = names.map((n) => n.replace(/\.weight$/, ''));
  let prefix = stems[0] ?? '';
  for (const s of stems) while (!s.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const cut = stems.length > 1 ? prefix.lastIndexOf('.') + 1 : 0;
  return stems.map((s) => s.slice(cut));
}

/** One table row per (layer, token count), in the order the forward pass first met them. */
export function kernelRows(choices: LinearChoice[]): KernelRow[] {
  const names = shortNames(choices.map((c) => c.weight));
  return choices.map((c, i) => {
    const measured = (Object.entries(c.ms) as [LinearPath, number][]).sort(
      ([a], [b]) => Number(b === c.path) - Number(a === c.path),
    );
    return {
      layer: names[i],
      tokens: formatInteger(c.n),
      kept: formatPercent(c.density),
      ran: PATH_NAMES[c.path],
      timings: [
        ...measured.map(([p, ms]) => `${PATH_NAMES[p]} ${formatKernelMs(ms)}`),
        ...(Object.entries(c.rejected) as [LinearPath, string][]).map(
          ([p, why]) => `${PATH_NAMES[p]} not used: ${why}`,
        ),
      ].join(' · '),
    };
  });
}
