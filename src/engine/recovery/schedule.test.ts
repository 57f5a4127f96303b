// The warm-up and cosine schedule at steps whose values are known by hand.
import { describe, expect, it } from 'vitest';
import { learningRate } from './schedule';

describe('learning-rate schedule', () => {
  const s = { peak: 1e-3, steps: 110, warmup: 10 };

  it('rises linearly over the warm-up, the first update already moving', () => {
    expect(learningRate(0, s)).toBeCloseTo(1e-4, 15);
    expect(learningRate(4, s)).toBeCloseTo(5e-4, 15);
    expect(learningRate(9, s)).toBeCloseTo(1e-3, 15);
  });

  it('decays along a half cosine from the peak to the floor', () => {
    expect(learningRate(10, s)).toBe(1e-3);
    expect(learningRate(60, s)).toBeCloseTo(0.5e-3, 15);
    expect(learningRate(35, s)).toBeCloseTo(1e-3 * 0.5 * (1 + Math.SQRT1_2), 15);
    expect(learningRate(109, s)).toBeCloseTo(1e-3 * 0.5 * (1 + Math.cos(0.99 * Math.PI)), 15);
    const floored = { ...s, floor: 0.1 };
    expect(learningRate(10, floored)).toBeCloseTo(1e-3, 15);
    expect(learningRate(60, floored)).toBeCloseTo(0.55e-3, 15);
    expect(learningRate(110, floored)).toBeCloseTo(0.1e-3, 15);
  });

  it('starts at the peak without a warm-up', () => {
    expect(learningRate(0, { peak: 2, steps: 4, warmup: 0 })).toBe(2);
    expect(learningRate(2, { peak: 2, steps: 4, warmup: 0 })).toBeCloseTo(1, 15);
  });
});
