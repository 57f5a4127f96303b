import { describe, expect, it } from 'vitest';
import { MAX_WASM_THREADS, planThreads, threadsFromQuery } from './wasm-threads';

describe('planThreads', () => {
  it('runs one thread on a page that is not cross-origin isolated, whatever was asked', () => {
    for (const asked of [undefined, 1, 4]) {
      const plan = planThreads({ isolated: false, cores: 8, asked });
      expect(plan.threads).toBe(1);
      expect(plan.reason).toMatch(/not cross-origin isolated/);
    }
  });

  it('takes one thread per physical core (half the logical ones), at most MAX_WASM_THREADS', () => {
    expect(planThreads({ isolated: true, cores: 8 })).toEqual({ threads: 4, reason: null });
    expect(planThreads({ isolated: true, cores: 5 })).toEqual({ threads: 2, reason: null });
    expect(planThreads({ isolated: true, cores: 64 })).toEqual({ threads: MAX_WASM_THREADS, reason: null });
    expect(planThreads({ isolated: true, cores: 2 })).toEqual({
      threads: 1,
      reason: 'the browser reports 2 logical cores: one thread per physical core (half the logical ones) leaves one',
    });
  });

  it('says why on one core or when the browser does not tell', () => {
    expect(planThreads({ isolated: true, cores: 1 })).toEqual({
      threads: 1,
      reason: 'the browser reports 1 logical core: one thread per physical core (half the logical ones) leaves one',
    });
    for (const cores of [0, undefined, Number.NaN]) {
      const plan = planThreads({ isolated: true, cores });
      expect(plan.threads).toBe(1);
      expect(plan.reason).toMatch(/does not say/);
    }
  });

  it('follows ?threads=N, capped, and says so', () => {
    expect(planThreads({ isolated: true, cores: 2, asked: 1 })).toEqual({
      threads: 1,
      reason: '?threads=1 in the page URL',
    });
    expect(planThreads({ isolated: true, cores: 2, asked: 4 })).toEqual({
      threads: 4,
      reason: '?threads=4 in the page URL',
    });
    expect(planThreads({ isolated: true, cores: 2, asked: 12 })).toEqual({
      threads: MAX_WASM_THREADS,
      reason: `?threads=12 in the page URL (at most ${MAX_WASM_THREADS})`,
    });
  });

  it('ignores an unusable ask', () => {
    expect(planThreads({ isolated: true, cores: 8, asked: 0 })).toEqual({ threads: 4, reason: null });
    expect(planThreads({ isolated: true, cores: 8, asked: 1.5 })).toEqual({ threads: 4, reason: null });
    expect(planThreads({ isolated: true, cores: 8, asked: null })).toEqual({ threads: 4, reason: null });
  });
});

describe('threadsFromQuery', () => {
  it('reads a whole number ≥ 1', () => {
    expect(threadsFromQuery('?threads=1')).toBe(1);
    expect(threadsFromQuery('?backend=wasm&threads=4')).toBe(4);
  });

  it('gives null for none or anything else', () => {
    for (const q of ['', '?backend=wasm', '?threads=', '?threads=0', '?threads=-2', '?threads=2.5', '?threads=two'])
      expect(threadsFromQuery(q)).toBeNull();
  });
});
