// Colour scales of the model map (d3 for the interpolation only). One sequential ramp per thing a
// cell can be coloured by, each a different hue so a glance tells which the map is showing.
import { interpolateBlues, interpolateOranges, interpolatePurples, lab, scaleSequential } from 'd3';

export interface ShareScale {
  fill(value: number): string;
  /** Dark or light text, whichever reads on `fill(value)`. */
  ink(value: number): string;
  max: number;
}

/** A sequential ramp from 0 to `max`; the palest and darkest ends are trimmed so every cell shows. */
function sequential(interpolate: (t: number) => string, max: number): ShareScale {
  const ramp = scaleSequential((t: number) => interpolate(0.08 + 0.77 * t))
    .domain([0, max || 1])
    .clamp(true);
  return {
    fill: (v) => ramp(v),
    ink: (v) => (lab(ramp(v)).l > 62 ? '#172033' : '#ffffff'),
    max,
  };
}

/** Share of the model's FLOPs: blues. */
export const shareScale = (max: number): ShareScale => sequential(interpolateBlues, max);

/** Importance relative to the largest of its kind, 0..1: purples. */
export const importanceScale = (): ShareScale => sequential(interpolatePurples, 1);

/** Share pruned, 0..1: oranges. */
export const prunedScale = (): ShareScale => sequential(interpolateOranges, 1);

/** Cells that have no value in the chosen colouring (the embeddings have no importance score). */
export const UNSCORED = { fill: '#eef1f5', ink: '#5b6678' } as const;
