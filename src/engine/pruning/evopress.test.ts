// EvoPress's search: the level-switch mutation keeps the removed total at the target for units of
// any size; the search reaches a separable problem's optimum (a dynamic program is the oracle);
// the parent competes, so the result is never worse than the start; a seed fixes the run; a run in
// two halves, or cancelled and resumed, is the same run; bad problems are refused by name.
import { describe, expect, it } from 'vitest';
import { isAbortError } from '../abort';
import {
  type EvoPressFitness,
  type EvoPressProblem,
  type EvoPressProgress,
  evoPressSearch,
  levelBounds,
  levelSparsities,
  levelSwitchMutation,
  paramsPerLevel,
  selectionFromTokens,
} from './evopress';
import { Mulberry32 } from './random';

const sum = (xs: readonly number[]) => xs.reduce((a, v) => a + v, 0);
const removed = (p: EvoPressProblem, s: readonly number[]) => sum(s.map((v, u) => v * p.unitParams[u]));

/** A fitness that logs its calls: sparsities rounded to 1e-12 and windows. */
function logged(f: (s: number[], windows: number) => number) {
  const calls: string[] = [];
  const fitness: EvoPressFitness = async (s, windows) => {
    calls.push(`${s.map((v) => v.toFixed(12)).join(',')}@${windows}`);
    return f(s, windows);
  };
  return { calls, fitness };
}

// Unequal units: a level is 100 weights, 0.1 of the smallest unit and 0.02 of the largest.
const problem: EvoPressProblem = {
  unitParams: [1000, 3000, 2000, 5000, 1500, 4000],
  target: 0.5,
  paramsPerLevel: 100,
  levelsPerSide: 8,
};
// A separable convex cost per unit, weighted so that the optimum is far from uniform.
const weights = [1.0, 1.7, 0.6, 2.3, 1.3, 0.9];
const separable = (s: number[]) => sum(s.map((v, u) => weights[u] * problem.unitParams[u] * v * v));

describe('EvoPress levels and mutation', () => {
  it('steps every unit by the same number of weights, as prune.py does', () => {
    const b = levelBounds(problem);
    expect(b[0]).toEqual({ lo: -5, hi: 5 }); // 500 weights either side of 0.5 in a unit of 1000
    expect(b[3]).toEqual({ lo: -8, hi: 8 }); // capped at levelsPerSide
    const s = levelSparsities(problem, [1, 0, 0, -1, 0, 0]);
    expect(s[0]).toBeCloseTo(0.6, 12);
    expect(s[3]).toBeCloseTo(0.48, 12);
    expect(removed(problem, s)).toBeCloseTo(0.5 * sum(problem.unitParams), 6);
  });

  it('derives a level from the smallest unit as prune.py from hidden²: it spans target ± half its room', () => {
    const p = { unitParams: [1600, 3200, 4800], target: 0.5 };
    expect(paramsPerLevel(p)).toBe(50); // int(0.5 · 0.5 / 8 · 1600)
    expect(levelBounds(p)).toEqual([
      { lo: -8, hi: 8 },
      { lo: -8, hi: 8 },
      { lo: -8, hi: 8 },
    ]);
    expect(levelSparsities(p, [8, -4, -4])[0]).toBe(0.75);
    // Near 1 a unit's room above is what bounds it.
    const q = { unitParams: [100, 1000], target: 0.9, paramsPerLevel: 4 };
    expect(levelBounds(q)).toEqual([
      { lo: -8, hi: 2 },
      { lo: -8, hi: 8 },
    ]);
  });

  it('draws min(randint(1, 3), randint(1, 3)) flips, as the reference: 1, 2, 3 with odds 5 : 3 : 1', () => {
    // Many units, so that two flips rarely touch the same one: a mutant's distance is then 2 × flips.
    const p = { unitParams: new Array(400).fill(1000), target: 0.5, paramsPerLevel: 10 };
    const bounds = levelBounds(p);
    const parent = new Array<number>(400).fill(0);
    const gen = new Mulberry32(7);
    const counts = [0, 0, 0, 0];
    const n = 9000;
    for (let m = 0; m < n; m++) {
      const child = levelSwitchMutation(parent, bounds, gen);
      counts[Math.min(3, Math.round(sum(child.map((l) => Math.abs(l))) / 2))]++;
    }
    expect(counts[1] / n).toBeCloseTo(5 / 9, 1);
    expect(counts[2] / n).toBeCloseTo(3 / 9, 1);
    expect(counts[3] / n).toBeCloseTo(1 / 9, 1);
  });

  it('keeps the total removed at the target and every level on its grid, over many mutations', () => {
    for (let trial = 0; trial < 20; trial++) {
      const gen = new Mulberry32(1000 + trial);
      const units = gen.int(2, 12);
      const unitParams = Array.from({ length: units }, () => gen.int(50, 5000));
      const p: EvoPressProblem = { unitParams, target: 0.05 + 0.9 * gen.next(), paramsPerLevel: gen.int(5, 40) };
      const bounds = levelBounds(p);
      const total = p.target * sum(unitParams);
      let levels = new Array<number>(units).fill(0);
      const faults: string[] = [];
      for (let m = 0; m < 500; m++) {
        const child = levelSwitchMutation(levels, bounds, gen);
        const s = levelSparsities(p, child);
        // At most three flips, each one level down and one up.
        if (sum(child.map((l, u) => Math.abs(l - levels[u]))) > 6) faults.push(`${m}: more than 3 flips`);
        if (sum(child) !== 0) faults.push(`${m}: levels sum to ${sum(child)}`);
        if (child.some((l, u) => l < bounds[u].lo || l > bounds[u].hi)) faults.push(`${m}: off the grid`);
        if (s.some((v) => v < 0 || v > 1)) faults.push(`${m}: sparsity outside [0, 1]`);
        const off = removed(p, s) - total;
        if (Math.abs(off) > 1e-9 * sum(unitParams)) faults.push(`${m}: ${off} weights off the target`);
        levels = child; // a random walk, so that parents far from uniform are mutated too
      }
      expect(faults).toEqual([]);
      expect(levels.some((l) => l !== 0)).toBe(true);
    }
  });
});

/** Exact optimum of a separable cost over the grid with levels summing to 0 (a knapsack DP). */
function oracle(p: EvoPressProblem, cost: (u: number, s: number) => number) {
  const bounds = levelBounds(p);
  const d = paramsPerLevel(p);
  // best.get(total) = [cost, levels] over the units seen so far.
  let best = new Map<number, { c: number; levels: number[] }>([[0, { c: 0, levels: [] }]]);
  bounds.forEach((b, u) => {
    const next = new Map<number, { c: number; levels: number[] }>();
    for (const [t, v] of best) {
      for (let l = b.lo; l <= b.hi; l++) {
        const c = v.c + cost(u, (p.target * p.unitParams[u] + l * d) / p.unitParams[u]);
        const prev = next.get(t + l);
        if (!prev || c < prev.c) next.set(t + l, { c, levels: [...v.levels, l] });
      }
    }
    best = next;
  });
  return best.get(0)!;
}

describe('EvoPress search', () => {
  const small = {
    offspring: 16,
    selection: [
      { windows: 1, survivors: 4 },
      { windows: 4, survivors: 1 },
    ],
  };

  it('finds the optimum of a separable convex cost, which the oracle computes', async () => {
    const want = oracle(problem, (u, s) => weights[u] * problem.unitParams[u] * s * s);
    expect(sum(want.levels)).toBe(0);
    expect(want.levels.some((l) => l !== 0)).toBe(true); // not the uniform start
    const { fitness } = logged(separable);
    const got = await evoPressSearch(problem, fitness, { ...small, generations: 40, seed: 3 });
    expect(got.levels).toEqual(want.levels);
    expect(got.fitness).toBeCloseTo(want.c, 9);
    expect(got.fitness).toBeLessThan(separable(levelSparsities(problem, [0, 0, 0, 0, 0, 0])));
  });

  it('never returns worse than the uniform start: the parent competes in the last step', async () => {
    // On few windows every move looks good; on the last step's windows every move is worse.
    const deceptive = (s: number[], windows: number) => {
      const dev = sum(s.map((v) => Math.abs(v - 0.5)));
      return windows < 4 ? 1 - dev : 1 + dev;
    };
    const progress: number[] = [];
    const got = await evoPressSearch(problem, logged(deceptive).fitness, {
      ...small,
      generations: 10,
      onProgress: (p) => progress.push(p.best.fitness),
    });
    expect(got.levels).toEqual([0, 0, 0, 0, 0, 0]);
    expect(got.fitness).toBe(1);
    expect(progress).toEqual(new Array(11).fill(1));

    // Any fitness: the parent's score never rises from one generation to the next.
    const hashed = (s: number[]) => Math.abs(Math.sin(sum(s.map((v, u) => v * (u + 1) * 97.13))));
    const trace: number[] = [];
    await evoPressSearch(problem, logged(hashed).fitness, {
      ...small,
      generations: 15,
      seed: 9,
      onProgress: (p) => trace.push(p.best.fitness),
    });
    for (let g = 1; g < trace.length; g++) expect(trace[g]).toBeLessThanOrEqual(trace[g - 1]);
  });

  it('scores the offspring step by step on more windows and keeps the parent’s score', async () => {
    const { calls, fitness } = logged(separable);
    const selection = [
      { windows: 2, survivors: 4 },
      { windows: 5, survivors: 2 },
      { windows: 9, survivors: 1 },
    ];
    const got = await evoPressSearch(problem, fitness, { offspring: 10, selection, generations: 3, seed: 1 });
    const windows = calls.map((c) => Number(c.split('@')[1]));
    const generation = [...new Array(10).fill(2), ...new Array(4).fill(5), ...new Array(2).fill(9)];
    expect(windows).toEqual([9, ...generation, ...generation, ...generation]);
    expect(got.evaluations).toBe(1 + 3 * 16);
    // The offspring of a generation are distinct and none is the parent.
    const first = calls.slice(1, 11).map((c) => c.split('@')[0]);
    expect(new Set(first).size).toBe(10);
    expect(first).not.toContain(calls[0].split('@')[0]);
  });

  it('is deterministic for a seed', async () => {
    const a = logged(separable);
    const b = logged(separable);
    const c = logged(separable);
    const ra = await evoPressSearch(problem, a.fitness, { ...small, generations: 8, seed: 42 });
    const rb = await evoPressSearch(problem, b.fitness, { ...small, generations: 8, seed: 42 });
    await evoPressSearch(problem, c.fitness, { ...small, generations: 8, seed: 43 });
    expect(rb).toEqual(ra);
    expect(b.calls).toEqual(a.calls);
    expect(c.calls).not.toEqual(a.calls);
  });

  it('run in two halves equals one run of all the generations', async () => {
    const whole = logged(separable);
    const states: EvoPressProgress[] = [];
    const one = await evoPressSearch(problem, whole.fitness, {
      ...small,
      generations: 12,
      seed: 5,
      onProgress: (p) => states.push(p),
    });
    const halves = logged(separable);
    const first = await evoPressSearch(problem, halves.fitness, { ...small, generations: 5, seed: 5 });
    expect(first.state).toEqual(states[5].state);
    const second = await evoPressSearch(problem, halves.fitness, { ...small, generations: 12, state: first.state });
    expect(second).toEqual(one);
    expect(halves.calls).toEqual(whole.calls);
    // A state already at the requested generations returns at once.
    const again = await evoPressSearch(problem, halves.fitness, { ...small, generations: 12, state: second.state });
    expect(again).toEqual(one);
    expect(halves.calls.length).toBe(whole.calls.length);
  });

  it('stops within one evaluation when cancelled, and the last reported state resumes it', async () => {
    const opts = { ...small, generations: 6, seed: 11 };
    const one = await evoPressSearch(problem, logged(separable).fitness, opts);

    const controller = new AbortController();
    let calls = 0;
    const perGeneration = 16 + 4; // offspring on 1 window, 4 survivors on 4
    const stopAt = 1 + 2 * perGeneration + 7; // inside the third generation
    const fitness: EvoPressFitness = async (s) => {
      calls++;
      if (calls === stopAt) controller.abort();
      return separable(s);
    };
    let last: EvoPressProgress | undefined;
    const run = evoPressSearch(problem, fitness, { ...opts, signal: controller.signal, onProgress: (p) => (last = p) });
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAbortError(err)).toBe(true);
    expect(calls).toBe(stopAt);
    expect(last?.generation).toBe(2);
    expect(last?.state.evaluations).toBe(1 + 2 * perGeneration);

    const resumed = await evoPressSearch(problem, logged(separable).fitness, { ...opts, state: last!.state });
    expect(resumed).toEqual(one);

    // Cancelled before it starts: nothing is evaluated.
    let none = 0;
    const aborted = AbortSignal.abort();
    await expect(
      evoPressSearch(
        problem,
        async () => {
          none++;
          return 0;
        },
        { signal: aborted },
      ),
    ).rejects.toSatisfy(isAbortError);
    expect(none).toBe(0);
  });

  it('refuses bad input with a message that names it', async () => {
    const f = logged(separable).fitness;
    const at = (target: number) => evoPressSearch({ ...problem, target }, f, small);
    await expect(at(0)).rejects.toThrow(/target sparsity 0 is outside the grid's reach/);
    await expect(at(1)).rejects.toThrow(/target sparsity 1 is outside the grid's reach/);
    await expect(at(1.2)).rejects.toThrow(/outside the grid's reach/);
    await expect(at(Number.NaN)).rejects.toThrow(/outside the grid's reach/);
    await expect(evoPressSearch({ unitParams: [], target: 0.5 }, f)).rejects.toThrow(/at least two units/);
    await expect(evoPressSearch({ unitParams: [100], target: 0.5 }, f)).rejects.toThrow(/at least two units/);
    await expect(evoPressSearch({ unitParams: [100, 0], target: 0.5 }, f)).rejects.toThrow(/unit 2 has 0 parameters/);
    await expect(evoPressSearch({ ...problem, paramsPerLevel: 10_000 }, f)).rejects.toThrow(
      /no two units have room for a level of 10000 weights/,
    );
    await expect(evoPressSearch({ unitParams: [10, 20], target: 0.5 }, f)).rejects.toThrow(
      /smallest unit \(10 parameters\) is too small.*pass paramsPerLevel/,
    );
    const step = (windows: number, survivors: number) =>
      evoPressSearch(problem, f, { offspring: 4, selection: [{ windows, survivors }] });
    await expect(step(0, 1)).rejects.toThrow(/selection step 1 scores on 0 windows/);
    await expect(step(-2, 1)).rejects.toThrow(/scores on -2 windows/);
    await expect(step(1.5, 1)).rejects.toThrow(/scores on 1.5 windows/);
    await expect(step(1, 0)).rejects.toThrow(/selection step 1 keeps 0 candidates/);
    await expect(evoPressSearch(problem, f, { selection: [] })).rejects.toThrow(/at least one selection step/);
    await expect(evoPressSearch(problem, f, { offspring: 0 })).rejects.toThrow(/offspring must be/);
    await expect(evoPressSearch(problem, f, { generations: -1 })).rejects.toThrow(/generations must be/);
    const state = { generation: 1, levels: [0, 0, 0, 0, 0, 0], fitness: 1, fitnessWindows: 4, rng: 1, evaluations: 1 };
    await expect(evoPressSearch(problem, f, { ...small, state: { ...state, levels: [0, 0] } })).rejects.toThrow(
      /state has 2 units, the problem 6/,
    );
    await expect(
      evoPressSearch(problem, f, { ...small, state: { ...state, levels: [6, -6, 0, 0, 0, 0] } }),
    ).rejects.toThrow(/level 6 of unit 1 is outside its grid \[-5, 5\]/);
    await expect(
      evoPressSearch(problem, f, { ...small, state: { ...state, levels: [1, 0, 0, 0, 0, 0] } }),
    ).rejects.toThrow(/do not sum to 0/);
  });

  it('turns the reference’s token counts into whole windows', () => {
    const survivors = [8, 2, 1];
    const tokens = [2048, 16384, 65536];
    expect(selectionFromTokens(tokens, survivors, 2048).map((s) => s.windows)).toEqual([1, 8, 32]);
    expect(selectionFromTokens(tokens, survivors, 512).map((s) => s.windows)).toEqual([4, 32, 128]);
    expect(selectionFromTokens(tokens, survivors, 8192).map((s) => s.windows)).toEqual([1, 2, 8]);
    expect(() => selectionFromTokens(tokens, [1], 2048)).toThrow(/3 token counts for 1 survivor counts/);
  });
});
