// The canvas colours come from a table of the ramp; they must stay the ramp's own colours.
import { rgb } from 'd3';
import { describe, expect, it } from 'vitest';
import { HEAT_LEVELS, heatColor, heatRgb } from './heat';

describe('heatRgb', () => {
  it("is the ramp's colour, within one in each byte, everywhere in [0, 1]", () => {
    for (let i = 0; i <= 5000; i++) {
      const t = i / 5000;
      const want = rgb(heatColor(t));
      const got = heatRgb(t);
      expect(Math.abs(got[0] - want.r)).toBeLessThanOrEqual(1);
      expect(Math.abs(got[1] - want.g)).toBeLessThanOrEqual(1);
      expect(Math.abs(got[2] - want.b)).toBeLessThanOrEqual(1);
    }
  });

  it('exact at the ends and at every level; clamped outside [0, 1]; NaN as 0', () => {
    for (const t of [0, 1, 17 / (HEAT_LEVELS - 1), 600 / (HEAT_LEVELS - 1)]) {
      const c = rgb(heatColor(t));
      expect(heatRgb(t)).toEqual([c.r, c.g, c.b]);
    }
    expect(heatRgb(-3)).toEqual(heatRgb(0));
    expect(heatRgb(7)).toEqual(heatRgb(1));
    expect(heatRgb(Number.NaN)).toEqual(heatRgb(0));
  });
});
