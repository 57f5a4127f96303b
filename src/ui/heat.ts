// Colours of the inspection views' heat maps (d3 for the interpolation only): one sequential ramp,
// pale yellow (0) to dark red (1), for attention weights and saliency alike.
import { interpolateYlOrRd, lab, rgb } from 'd3';

/** The ramp's colour at t ∈ [0, 1]; its palest end is trimmed so a zero still shows against white. */
export function heatColor(t: number): string {
  return interpolateYlOrRd(0.04 + 0.96 * Math.min(1, Math.max(0, t)));
}

/** Levels of the ramp heatRgb reads from: neighbours differ by at most one in each byte. */
export const HEAT_LEVELS = 1024;
let table: Uint8Array | null = null;

/**
 * heatColor as [r, g, b] bytes, for a canvas, from a table of the ramp: a canvas paints every
 * entry (16 attention maps of 128 × 128 on gpt-bytes after each slider step), where parsing d3's
 * colour string per entry took about 84 ms of the page's thread a step.
 */
export function heatRgb(t: number): [number, number, number] {
  if (!table) {
    table = new Uint8Array(3 * HEAT_LEVELS);
    for (let i = 0; i < HEAT_LEVELS; i++) {
      const c = rgb(heatColor(i / (HEAT_LEVELS - 1)));
      table.set([c.r, c.g, c.b], 3 * i);
    }
  }
  const at = 3 * Math.round((HEAT_LEVELS - 1) * Math.min(1, Math.max(0, t || 0)));
  return [table[at]!, table[at + 1]!, table[at + 2]!];
}

/** Dark or light text, whichever reads on heatColor(t). */
export function heatInk(t: number): string {
  return lab(heatColor(t)).l > 60 ? '#172033' : '#ffffff';
}

/**
 * Attention weights are shown on a square-root scale: a row of 128 tokens spreads its weight thin,
 * and on a linear scale everything below 0.1 would look the same.
 */
export const attentionShade = (w: number): number => Math.sqrt(Math.max(0, w));

/** CSS gradient stops of the whole ramp, for a legend. */
export function rampStops(steps = 10): string {
  return Array.from({ length: steps + 1 }, (_, i) => `${heatColor(i / steps)} ${(i / steps) * 100}%`).join(', ');
}
