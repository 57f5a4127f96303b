// The trade-off chart's Pareto front over every point (ties, either direction of the metric) and its
// colouring by bits.
import { describe, expect, it } from 'vitest';
import type { ChartPoint } from './config-slice';
import { arrowBetween, bitsColor, bitsLabel, bitsPresent, paretoFront } from './tradeoff';

const p = (bytes: number, metric: number, bits = 32, flops = 0): ChartPoint => ({
  amount: 0,
  metric,
  flops,
  params: 0,
  bytes,
  bits,
});

describe('paretoFront', () => {
  it('keeps the smallest point for each better metric, higher accuracy being better', () => {
    const front = paretoFront([p(4, 0.8), p(1, 0.5), p(3, 0.9), p(2, 0.4)], 'bytes', true);
    expect(front.map((x) => [x.bytes, x.metric])).toEqual([
      [1, 0.5],
      [3, 0.9],
    ]);
  });

  it('keeps the smallest point for each lower bits per byte, lower being better', () => {
    const front = paretoFront([p(4, 1.7), p(1, 2.4), p(2, 2.6), p(3, 1.9)], 'bytes', false);
    expect(front.map((x) => [x.bytes, x.metric])).toEqual([
      [1, 2.4],
      [3, 1.9],
      [4, 1.7],
    ]);
  });

  it('ties: of equal sizes the better metric stands; of equal metrics the smaller size; equal points once', () => {
    const a = p(2, 0.7);
    const twin = p(2, 0.7);
    const front = paretoFront([p(2, 0.6), twin, a, p(5, 0.7), p(1, 0.3), p(1, 0.3)], 'bytes', true);
    expect(front.map((x) => [x.bytes, x.metric])).toEqual([
      [1, 0.3],
      [2, 0.7],
    ]);
    // The first of equal points is the one on the front.
    expect(front[1]).toBe(twin);
    expect(paretoFront([], 'bytes', true)).toEqual([]);
  });

  it('reads the axis it is asked for, over every curve’s points at once', () => {
    // Quantized points are small but cost as many FLOPs as the dense model.
    const dense = p(400, 0.9, 32, 100);
    const q4 = p(60, 0.88, 4, 100);
    const pruned = p(250, 0.85, 32, 60);
    expect(paretoFront([dense, q4, pruned], 'bytes', true)).toEqual([q4, dense]);
    expect(paretoFront([dense, q4, pruned], 'flops', true)).toEqual([pruned, dense]);
  });
});

describe('colouring by bits', () => {
  it('lists the bits among the points, full precision first, and gives each its colour', () => {
    expect(bitsPresent([p(1, 0, 4), p(1, 0, 32), p(1, 0, 3), p(1, 0, 4)])).toEqual([32, 4, 3]);
    expect(bitsPresent([p(1, 0, 2), p(1, 0, 8)])).toEqual([8, 2]);
    expect(new Set([32, 8, 4, 3].map(bitsColor)).size).toBe(4);
    expect(bitsLabel(32)).toBe('32-bit float');
    expect(bitsLabel(4)).toBe('4-bit');
  });
});

describe('the arrow from a pruned point to its recovered one', () => {
  it('runs along the line between them, clear of both markers, its head at the recovered end', () => {
    const a = arrowBetween({ x: 0, y: 100 }, { x: 0, y: 0 }, 6, 7, 6)!;
    // Straight up: the line leaves the pruned marker's 6 px, the head ends 7 px short of the recovered one.
    expect([a.x1, a.y1, a.x2, a.y2]).toEqual([0, 94, 0, 13]);
    expect(a.head).toBe('M0,7L3,13L-3,13Z');
    const d = arrowBetween({ x: 0, y: 0 }, { x: 30, y: 40 }, 5, 5, 0)!;
    // Along (0.6, 0.8): 5 px in from each end.
    expect([d.x1, d.y1, d.x2, d.y2]).toEqual([3, 4, 27, 36]);
  });

  it('is left out when the points are too close for one', () => {
    expect(arrowBetween({ x: 10, y: 10 }, { x: 10, y: 25 }, 6, 7, 6)).toBeNull();
    expect(arrowBetween({ x: 10, y: 10 }, { x: 10, y: 10 }, 0, 0, 0)).toBeNull();
  });
});
