import { describe, expect, it } from 'vitest';
import type { QuantizationGrid } from '../workers/api';
import {
  keptText,
  quantGridCaption,
  quantPointText,
  quantSharesText,
  thresholdMarkers,
  thresholdText,
} from './layer-detail-format';

describe('threshold words and marks', () => {
  it('says what each kind of threshold means', () => {
    expect(thresholdText({ kind: 'none', reason: 'nothing removed' })).toBe('None: nothing is removed.');
    expect(thresholdText({ kind: 'none', reason: 'everything removed' })).toBe('None: every weight is removed.');
    expect(thresholdText({ kind: 'single', value: 0.01234, largestRemoved: 0.0121, tiedRemoved: 0 })).toBe(
      'Kept: score ≥ 0.01234; largest removed 0.0121.',
    );
    expect(thresholdText({ kind: 'single', value: 1, largestRemoved: 1, tiedRemoved: 2 })).toBe(
      'Kept: score ≥ 1; largest removed 1 (2 tied at the threshold removed by position).',
    );
    expect(
      thresholdText({ kind: 'per-row', median: 0.5, q1: 0.25, q3: 0.75, min: 0.1, max: 0.9, rows: 64, mixedRows: 0 }),
    ).toBe('One per output row: median 0.5, middle half 0.25–0.75, range 0.1–0.9 over 64 rows.');
    expect(thresholdText({ kind: 'mixed', quantile: 0.2, differ: 1500, smallestKept: 0.01, largestRemoved: 0.9 })).toBe(
      'No single threshold: a cut at 0.2 would remove as many weights but keep a different 1,500.',
    );
  });

  it('draws a line for one threshold, a band and a median for row thresholds, a dashed reference otherwise', () => {
    expect(thresholdMarkers({ kind: 'none', reason: 'nothing removed' })).toEqual([]);
    expect(thresholdMarkers({ kind: 'single', value: 2, largestRemoved: 1, tiedRemoved: 0 })).toEqual([
      { value: 2, label: 'threshold 2', style: 'threshold' },
    ]);
    expect(
      thresholdMarkers({
        kind: 'per-row',
        median: 0.5,
        q1: 0.25,
        q3: 0.75,
        min: 0.1,
        max: 0.9,
        rows: 64,
        mixedRows: 0,
      }).map((m) => m.style),
    ).toEqual(['band', 'threshold']);
    expect(
      thresholdMarkers({ kind: 'mixed', quantile: 0.2, differ: 1, smallestKept: 0.01, largestRemoved: 0.9 })[0].style,
    ).toBe('reference');
  });

  it('counts kept and removed', () => {
    expect(keptText(8192, 8192)).toBe('8,192 kept · 8,192 removed (50.0%)');
    expect(keptText(0, 0)).toBe('0 kept · 0 removed (0.0%)');
  });
});

describe('quantization grid words', () => {
  const grid: QuantizationGrid = {
    bits: 3,
    symmetric: false,
    groupSize: 64,
    groups: 8,
    row: 17,
    group: 2,
    scale: 0.01234,
    zero: 3,
    points: [0, 1, 2, 3, 4, 5, 6, 7].map((c) => 0.01234 * (c - 3)),
    shares: [0.05, 0.1, 0.2, 0.3, 0.2, 0.1, 0.05, 0],
  };

  it('names the row and group drawn, the scale and the zero point', () => {
    expect(quantGridCaption(grid)).toBe(
      '3-bit grid of output row 18, group 3 of 8 (64 columns): the largest scale, 0.0123; zero point 3',
    );
    expect(quantGridCaption({ ...grid, groups: 1, group: 0, groupSize: 0, symmetric: true })).toBe(
      '3-bit grid of output row 18 (one scale per row): the largest scale, 0.0123; symmetric',
    );
    expect(quantPointText(grid, 0)).toBe('code 0: -0.037, 5.0% of the kept weights');
  });

  it('lists the share at each code where the codes fit, not for 8 bits', () => {
    expect(quantSharesText(grid)).toBe(
      '0: 5.0% · 1: 10.0% · 2: 20.0% · 3: 30.0% · 4: 20.0% · 5: 10.0% · 6: 5.0% · 7: 0.0%',
    );
    expect(quantSharesText({ ...grid, bits: 8, shares: new Array(256).fill(1 / 256) })).toBeNull();
  });
});
