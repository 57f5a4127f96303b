// Words, marks and colours of the layer detail view: names of a block's linears, the threshold in a
// sentence, and the lines the score histogram draws for it.
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
