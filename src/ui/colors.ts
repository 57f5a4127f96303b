// Colour scales of the model map (d3 for the interpolation only).
import { interpolateBlues, lab, scaleSequential } from 'd3';

export interface ShareScale {
  fill(share: number): string;
  /** Dark or light text, whichever reads on `fill(share)`. */
  ink(share: number): string;
  max: number;
}

/** Sequential blues from 0 to `max`; the palest and darkest ends are trimmed so every cell shows. */
export function shareScale(max: number): ShareScale {
  const ramp = scaleSequential((t: number) => interpolateBlues(0.08 + 0.77 * t)).domain([0, max || 1]).clamp(true);
  return {
    fill: (s) => ramp(s),
    ink: (s) => (lab(ramp(s)).l > 62 ? '#172033' : '#ffffff'),
    max,
  };
}
