// The report in words: passes over the data, and the held-out metric's peak when a run went past it.
import { describe, expect, it } from 'vitest';
import type { Metrics } from './metrics';
import type { RecoveryReport } from './recovery';
import { passesText, pastItsPeak } from './recovery-report';

const lm = { kind: 'lm' } as Metrics;
const classifier = { kind: 'classifier' } as Metrics;

function report(metric: number[], over: Partial<RecoveryReport> = {}): RecoveryReport {
  const every = 100;
  return {
    recovery: { batchSize: 8 },
    before: lm,
    metricCurve: metric.map((value, i) => ({ step: i * every, value })),
    stepsDone: (metric.length - 1) * every,
    examples: 128,
    passes: ((metric.length - 1) * every * 8) / 128,
    aborted: false,
    ...over,
  } as RecoveryReport;
}

describe('passesText', () => {
  it('says how often a run went over its examples', () => {
    expect(passesText(1)).toBe('one pass over the data');
    expect(passesText(0.0625)).toBe('0.06 passes over the data');
    expect(passesText(62.5)).toBe('62.5 passes over the data');
  });
});

describe('pastItsPeak', () => {
  it('finds the best measurement after the start when the end lost more than 1% of it', () => {
    // bits per byte: lower is better; best 2.15 at step 300, the end 3.32.
    const peak = pastItsPeak(report([2.95, 2.2, 2.17, 2.15, 2.6, 3.32]));
    expect(peak).toMatchObject({ step: 300, best: 2.15, end: 3.32 });
    expect(peak!.text).toBe(
      'The held-out metric was best at step 300 (2.150) and ended at 3.320. The 500 updates of 8 went over the 128 training examples 31.3 times: the model learns them by heart. Fewer steps, or more data, keep what it won.',
    );
    const long = report([2.95, 2.16, 2.16, 2.33, 2.54, 2.82, 3.05, 3.2, 3.28, 3.32, 3.32], {
      examples: 127,
      passes: 63,
    });
    expect(pastItsPeak(long)?.text).toContain(
      'best at step 100 (2.160) and ended at 3.320. The 1,000 updates of 8 went over the 127 training examples 63.0 times',
    );
  });

  it('reads accuracy as higher-is-better, and names no repetition for a run within one pass', () => {
    const r = report([0.47, 0.83, 0.8], { before: classifier, examples: 10_000, passes: 0.16 });
    expect(pastItsPeak(r)?.text).toBe(
      'The held-out metric was best at step 100 (83.0%) and ended at 80.0%. Fewer steps or a lower learning rate keep what it won.',
    );
  });

  it('says nothing when the end is the best, within 1% of it, measured too rarely, or cancelled', () => {
    expect(pastItsPeak(report([2.95, 2.3, 2.2]))).toBeNull();
    expect(pastItsPeak(report([2.95, 2.2, 2.21]))).toBeNull();
    expect(pastItsPeak(report([2.95, 2.2, 2.3]))).not.toBeNull();
    expect(pastItsPeak(report([2.95, 2.2]))).toBeNull();
    // Worse than before the run at every measurement: the peak is the best after the start.
    expect(pastItsPeak(report([2.0, 2.2, 2.5]))).toMatchObject({ step: 100, best: 2.2 });
    expect(pastItsPeak(report([2.95, 2.2, 3.3], { aborted: true }))).toBeNull();
    expect(pastItsPeak(report([0.47, 0.83, 0.9], { before: classifier }))).toBeNull();
  });
});
