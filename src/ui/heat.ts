// Colours of the inspection views' heat maps (d3 for the interpolation only): one sequential ramp,
// pale yellow (0) to dark red (1), for attention weights and saliency alike.
import { interpolateYlOrRd, lab, rgb } from 'd3';

/** The ramp's colour at t ∈ [0, 1]; its palest end is trimmed so a zero still shows against white. */
export function heatColor(t: number): string {
  return interpolateYlOrRd(0.04 + 0.96 * Math.min(1, Math.max(0, t)));
}

/** heatColor as [r, g, b] bytes, for a canvas. */
export function heatRgb(t: number): [number, number, number] {
  const c = rgb(heatColor(t));
  return [c.r, c.g, c.b];
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
