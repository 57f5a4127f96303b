// Number formats the page uses: 1.23 M parameters, 45.6 MFLOPs, 19.5%.
import type { Family } from '../engine/pruning/catalogue';

const PREFIXES = ['', 'k', 'M', 'G', 'T', 'P'];

/** Three significant digits and an SI prefix: 999 → ["999", ""], 1234 → ["1.23", "k"]. */
function scaled(n: number): [string, string] {
  if (!Number.isFinite(n)) return [String(n), ''];
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let i = 0;
  while (i < PREFIXES.length - 1 && Number(v.toPrecision(3)) >= 1000) {
    v /= 1000;
    i++;
  }
  const text = i === 0 && Number.isInteger(v) ? String(v) : v === 0 ? '0' : v.toPrecision(3);
  return [sign + text, PREFIXES[i]];
}

/** 1234567 → "1.23 M"; 950 → "950". */
export function formatCount(n: number): string {
  const [v, p] = scaled(n);
  return p ? `${v} ${p}` : v;
}

/** 45_600_000 → "45.6 MFLOPs". */
export function formatFlops(n: number): string {
  const [v, p] = scaled(n);
  return `${v} ${p}FLOPs`;
}

/** 0.195 → "19.5%". */
export function formatPercent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

// One formatter for every call: toLocaleString builds one per call, 12 ms of a slider step's render.
const integers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Exact integers with thousands separators: 206986 → "206,986". */
export function formatInteger(n: number): string {
  return integers.format(Math.round(n));
}

/** A count and its noun, plural but for one: (1, 'split') → "1 split", (1234, 'split') → "1,234 splits". */
export function formatCountOf(n: number, noun: string): string {
  return `${formatInteger(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** A plain quantity to `digits` significant digits, without exponent notation: 7.9912 → "7.99". */
export function formatValue(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 10 ** digits) return formatInteger(x);
  return Number(x.toPrecision(digits)).toString();
}

/** 16521 → "16.5 KB". */
export function formatBytes(n: number): string {
  const [v, p] = scaled(n);
  return `${v} ${p}B`;
}

/** How the model's headline metric is named and shown: bits per byte for text, accuracy for images. */
export function metricDisplay(family: Family): {
  name: string;
  higherIsBetter: boolean;
  format: (v: number) => string;
} {
  return family === 'causal-lm'
    ? { name: 'Bits per byte', higherIsBetter: false, format: (v) => formatValue(v, 4) }
    : { name: 'Accuracy', higherIsBetter: true, format: (v) => formatPercent(v) };
}

/** What a language model's tokens are, in words: bytes for a byte-level vocabulary, else tokens. */
export function tokenUnit(p: { probs: ArrayLike<number> }): 'byte' | 'token' {
  return p.probs.length <= 256 ? 'byte' : 'token';
}
