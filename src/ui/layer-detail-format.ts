// Words, marks and colours of the layer detail view: names of a block's linears, the threshold in a
// sentence, the lines the score histogram draws for it, and the quantization grid in words.
import type { QuantizationGrid } from '../workers/api';
import type { LayerThreshold } from '../workers/client';
import { formatInteger, formatPercent, formatValue } from './format';
import type { LinearRole } from './layer-detail-slice';

/** Kept weights, in the histograms and the mask image; removed ones are near-black. */
export const KEPT_COLOR = '#3d7fd9';
export const REMOVED_COLOR = '#1b1f27';

export const ROLE_NAMES: Record<LinearRole, string> = {
  qkv: 'Q, K, V',
  q: 'Query',
  k: 'Key',
  v: 'Value',
  attn_out: 'Attention out',
  ffn_gate: 'FFN gate',
  ffn_in: 'FFN in',
  ffn_out: 'FFN out',
  patch: 'Patch embedding',
  classifier: 'Classifier',
};

/** A line (or band) on the score histogram. */
export interface Marker {
  value: number;
  /** The upper end of a band from `value`; none for a line. */
  to?: number;
  label: string;
  style: 'threshold' | 'band' | 'reference';
}

/** The threshold in one sentence. */
export function thresholdText(t: LayerThreshold): string {
  switch (t.kind) {
    case 'none':
      return t.reason === 'nothing removed' ? 'None: nothing is removed.' : 'None: every weight is removed.';
    case 'single':
      return `Kept: score ≥ ${formatValue(t.value, 4)}; largest removed ${formatValue(t.largestRemoved, 4)}${t.tiedRemoved ? ` (${formatInteger(t.tiedRemoved)} tied at the threshold removed by position)` : ''}.`;
    case 'per-row':
      return `One per output row: median ${formatValue(t.median)}, middle half ${formatValue(t.q1)}–${formatValue(t.q3)}, range ${formatValue(t.min)}–${formatValue(t.max)} over ${formatInteger(t.rows)} rows${t.mixedRows ? `; ${formatInteger(t.mixedRows)} rows not split by one value` : ''}.`;
    case 'mixed':
      return `No single threshold: a cut at ${formatValue(t.quantile)} would remove as many weights but keep a different ${formatInteger(t.differ)}.`;
  }
}

/** What the score histogram draws for a threshold. */
export function thresholdMarkers(t: LayerThreshold): Marker[] {
  switch (t.kind) {
    case 'none':
      return [];
    case 'single':
      return [{ value: t.value, label: `threshold ${formatValue(t.value, 4)}`, style: 'threshold' }];
    case 'per-row':
      return [
        { value: t.q1, to: t.q3, label: 'middle half of the row thresholds', style: 'band' },
        { value: t.median, label: `median row threshold ${formatValue(t.median)}`, style: 'threshold' },
      ];
    case 'mixed':
      return [
        {
          value: t.quantile,
          label: `same-count cut ${formatValue(t.quantile)} (not the rule used)`,
          style: 'reference',
        },
      ];
  }
}

/** "8,192 kept · 8,192 removed (50.0%)". */
export function keptText(kept: number, removed: number): string {
  return `${formatInteger(kept)} kept · ${formatInteger(removed)} removed (${formatPercent(removed / Math.max(1, kept + removed))})`;
}

/** Codes the page lists one by one under the weight histogram: 4 bits at most, beyond that they do not fit. */
export const LISTED_CODES = 16;

/** "4-bit grid of output row 18, group 3 of 6 (the largest scale, 0.0123; zero point 7)". */
export function quantGridCaption(q: QuantizationGrid): string {
  const where =
    q.groups > 1
      ? `output row ${formatInteger(q.row + 1)}, group ${formatInteger(q.group + 1)} of ${formatInteger(q.groups)} (${formatInteger(q.groupSize)} columns)`
      : `output row ${formatInteger(q.row + 1)} (one scale per row)`;
  const zero = q.symmetric ? 'symmetric' : `zero point ${formatInteger(q.zero)}`;
  return `${q.bits}-bit grid of ${where}: the largest scale, ${formatValue(q.scale, 3)}; ${zero}`;
}

/** "code 3: −0.0123, 4.5% of the kept weights". */
export function quantPointText(q: QuantizationGrid, code: number): string {
  return `code ${code}: ${formatValue(q.points[code], 3)}, ${formatPercent(q.shares[code])} of the kept weights`;
}

/** "0: 1.2% · 1: 3.4% · …" for grids of up to LISTED_CODES codes; null for finer grids. */
export function quantSharesText(q: QuantizationGrid): string | null {
  if (q.shares.length > LISTED_CODES) return null;
  return q.shares.map((share, code) => `${code}: ${formatPercent(share)}`).join(' · ');
}
