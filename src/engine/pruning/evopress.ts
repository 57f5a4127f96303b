// EvoPress's search for a non-uniform split of a global sparsity over units (blocks or linears):
// Sieberling, Kuznedelev, Kurtic, Alistarh, "EvoPress: Accurate Dynamic Model Compression via
// Evolutionary Search", ICML 2025 (PMLR 267; arXiv:2410.14649), as the authors' evo_prune_search.py
// and prune.py (IST-DASLab/EvoPress) run it.
//
// Implemented: the level grid of prune.py (a unit's level l removes l·paramsPerLevel weights more
// than the target would, the same count in every unit, so any +1/−1 pair keeps the model's total
// exactly at the target whatever the units' sizes; at most levelsPerSide levels either way, within
// [0, 1] sparsity); the (1 + λ) search from the uniform split; the level-switch mutation (min of two
// draws from 1…3 flips, each one level down in one unit and one level up in another); distinct
// offspring; multi-step selection (each step scores the survivors of the last on more calibration,
// keeps the best few); the parent competing in the last step (elitism); resumption between
// generations from a small serialisable state.
//
// Left out, or the caller's: the database of each unit pruned at each level and the fitness (the
// KL divergence of the model's predictions from the dense model's on calibration windows) are the
// caller's; the reference's random choice of calibration sequences at every selection step becomes
// the first `windows` windows here, so a score depends on the split alone and the parent's score is
// kept, not measured again; its --max_level and --max_total_deviation caps (off by default there)
// are not offered; the depth-pruning and quantization searches are not here.

import { Mulberry32 } from './random';

/** What is split: each unit's parameter count and the model's target sparsity. */
export interface EvoPressProblem {
  /** Prunable parameters of each unit (positive integers); the units may differ in size. */
  unitParams: number[];
  /** Global sparsity: removed / total prunable parameters, in (0, 1). */
  target: number;
  /**
   * Weights one level moves (prune.py's --weights_diff). Default, as prune.py derives it from the
   * hidden size (int(0.5 · min(s, 1 − s) / num_levels · hidden²)), with the smallest unit's size in
   * place of hidden²: the smallest unit spans target ± half its room to 0 or 1.
   */
  paramsPerLevel?: number;
  /** Levels either side of the target (prune.py's --num_levels; default 8). */
  levelsPerSide?: number;
}

/** A unit's admissible levels: lo ≤ l ≤ hi, lo ≤ 0 ≤ hi; level 0 is the target. */
export interface LevelBounds {
  lo: number;
  hi: number;
}

/** One selection step: score the candidates on the first `windows` calibration windows, keep `survivors`. */
export interface SelectionStep {
  windows: number;
  survivors: number;
}

/** Where a search stands after a whole generation: enough to continue it exactly. Plain JSON. */
export interface EvoPressState {
  /** Generations completed. */
  generation: number;
  /** The parent's level per unit. */
  levels: number[];
  /** The parent's fitness, on `fitnessWindows` windows (the last selection step's). */
  fitness: number;
  fitnessWindows: number;
  /** The generator's state (mulberry32, a uint32). */
  rng: number;
  /** Fitness evaluations so far, this state's included. */
  evaluations: number;
}

export interface EvoPressProgress {
  /** Generations completed (0: the uniform start has just been measured). */
  generation: number;
  generations: number;
  /** The current parent: the best split found so far. */
  best: { sparsities: number[]; levels: number[]; fitness: number };
  evaluations: number;
  /** Pass this back as `opts.state` to continue from here. */
  state: EvoPressState;
}

/** Lower is better: e.g. the KL divergence from the dense model on the first `windows` calibration windows. */
export type EvoPressFitness = (sparsities: number[], windows: number, signal?: AbortSignal) => Promise<number>;

export interface EvoPressOptions {
  /** Generations to have completed when the call returns, those of `state` included (reference run: 400). */
  generations?: number;
  /** Offspring per generation (reference run: 64). */
  offspring?: number;
  /**
   * Selection steps, in order. Default: the reference run's 2048, 16384, 65536 tokens keeping 8, 2, 1,
   * in windows of 2048 tokens (1, 8, 32 windows); selectionFromTokens converts for other windows.
   */
  selection?: SelectionStep[];
  /** Seed of a fresh search (reference: 0); ignored when resuming, the state carries the generator. */
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (p: EvoPressProgress) => void;
  /** A state from onProgress or from an earlier result: the search continues from it. */
  state?: EvoPressState;
}

export interface EvoPressResult {
  sparsities: number[];
  levels: number[];
  fitness: number;
  evaluations: number;
  state: EvoPressState;
}

/** The reference's run of the unstructured search (scripts/run_prune_search.sh; prune.py's --num_levels). */
export const EVOPRESS_REFERENCE = {
  generations: 400,
  offspring: 64,
  survivorsPerSelection: [8, 2, 1],
  tokensPerSelection: [2048, 16384, 65536],
  levelsPerSide: 8,
} as const;

/**
 * The reference's selection in windows of `windowTokens` tokens. The reference cuts a sequence to
 * meet a token count; here a step gets the whole windows that cover it (at least one).
 */
export function selectionFromTokens(tokens: readonly number[], survivors: readonly number[], windowTokens: number) {
  if (tokens.length !== survivors.length) {
    throw new Error(`EvoPress: ${tokens.length} token counts for ${survivors.length} survivor counts`);
  }
  if (!(windowTokens > 0)) throw new Error(`EvoPress: a window must hold at least one token, not ${windowTokens}`);
  return tokens.map((t, i) => ({ windows: Math.max(1, Math.ceil(t / windowTokens)), survivors: survivors[i] }));
}

const DEFAULT_WINDOW_TOKENS = 2048;

const defaultSelection = (): SelectionStep[] =>
  selectionFromTokens(
    EVOPRESS_REFERENCE.tokensPerSelection,
    EVOPRESS_REFERENCE.survivorsPerSelection,
    DEFAULT_WINDOW_TOKENS,
  );

/** Weights one level moves: the problem's, or prune.py's rule on the smallest unit. */
export function paramsPerLevel(problem: EvoPressProblem): number {
  if (problem.paramsPerLevel !== undefined) return problem.paramsPerLevel;
  const L = problem.levelsPerSide ?? EVOPRESS_REFERENCE.levelsPerSide;
  const t = problem.target;
  return Math.floor(((0.5 * Math.min(t, 1 - t)) / L) * Math.min(...problem.unitParams));
}

// Tolerance on the floor of a level count, so that a product like 0.29 · 100 still counts 29.
const EPS = 1e-9;

function checkProblem(problem: EvoPressProblem): void {
  const { unitParams, target } = problem;
  if (unitParams.length < 2) {
    throw new Error(`EvoPress needs at least two units to move sparsity between, not ${unitParams.length}`);
  }
  unitParams.forEach((n, u) => {
    if (!Number.isInteger(n) || n <= 0) {
      throw new Error(`EvoPress: unit ${u + 1} has ${n} parameters; a unit needs a positive whole number`);
    }
  });
  if (!(target > 0 && target < 1)) {
    throw new Error(
      `EvoPress: target sparsity ${target} is outside the grid's reach: at 0 or 1 the uniform split is the only one; use a target in (0, 1)`,
    );
  }
  const L = problem.levelsPerSide ?? EVOPRESS_REFERENCE.levelsPerSide;
  if (!Number.isInteger(L) || L < 1) throw new Error(`EvoPress: levelsPerSide must be a whole number ≥ 1, not ${L}`);
  const d = paramsPerLevel(problem);
  if (!Number.isInteger(d) || d < 1) {
    throw new Error(
      problem.paramsPerLevel === undefined
        ? `EvoPress: the smallest unit (${Math.min(...unitParams)} parameters) is too small for ${L} levels a side at ${target}; pass paramsPerLevel`
        : `EvoPress: paramsPerLevel must be a whole number ≥ 1, not ${d}`,
    );
  }
}

/** Each unit's admissible levels, as prune.py builds them: ±levelsPerSide, within [0, 1] sparsity. */
export function levelBounds(problem: EvoPressProblem): LevelBounds[] {
  checkProblem(problem);
  const d = paramsPerLevel(problem);
  const L = problem.levelsPerSide ?? EVOPRESS_REFERENCE.levelsPerSide;
  const t = problem.target;
  const bounds = problem.unitParams.map((n) => ({
    lo: -Math.min(Math.floor((t * n) / d + EPS), L),
    hi: Math.min(Math.floor(((1 - t) * n) / d + EPS), L),
  }));
  // Levels sum to 0, so the split can move iff one unit has room below the target and another above.
  const down = bounds.flatMap((b, u) => (b.lo < 0 ? [u] : []));
  const up = bounds.flatMap((b, u) => (b.hi > 0 ? [u] : []));
  if (down.length === 0 || up.length === 0 || (down.length === 1 && up.length === 1 && down[0] === up[0])) {
    throw new Error(
      `EvoPress: at ${t} sparsity no two units have room for a level of ${d} weights, one below the target and one above; lower paramsPerLevel`,
    );
  }
  return bounds;
}

/** Sparsity of a unit of n parameters at level l: the target plus l levels of d weights. */
function sparsityAt(target: number, n: number, d: number, l: number): number {
  return Math.min(1, Math.max(0, (target * n + l * d) / n));
}

/** Each unit's sparsity at the given levels; the caller's database is indexed by these values. */
export function levelSparsities(problem: EvoPressProblem, levels: readonly number[]): number[] {
  const d = paramsPerLevel(problem);
  return levels.map((l, u) => sparsityAt(problem.target, problem.unitParams[u], d, l));
}

/**
 * The level-switch mutation: min(randint(1, 3), randint(1, 3)) flips, each moving one unit a level
 * down and one (possibly the same) a level up, both chosen uniformly among the units that can move
 * that way, as the reference's rejection loops do. The sum of levels, hence the total of removed
 * weights, is unchanged.
 */
export function levelSwitchMutation(parent: readonly number[], bounds: readonly LevelBounds[], rng: Mulberry32) {
  const child = parent.slice();
  const flips = Math.min(rng.int(1, 3), rng.int(1, 3));
  for (let f = 0; f < flips; f++) {
    const down: number[] = [];
    const up: number[] = [];
    child.forEach((l, u) => {
      if (l - 1 >= bounds[u].lo) down.push(u);
      if (l + 1 <= bounds[u].hi) up.push(u);
    });
    const d = down[rng.int(0, down.length - 1)];
    const i = up[rng.int(0, up.length - 1)];
    child[d] -= 1;
    child[i] += 1;
  }
  return child;
}

function checkSelection(selection: SelectionStep[], offspring: number, generations: number): void {
  if (!Number.isInteger(generations) || generations < 0) {
    throw new Error(`EvoPress: generations must be a whole number ≥ 0, not ${generations}`);
  }
  if (!Number.isInteger(offspring) || offspring < 1) {
    throw new Error(`EvoPress: offspring must be a whole number ≥ 1, not ${offspring}`);
  }
  if (selection.length === 0) throw new Error('EvoPress needs at least one selection step');
  selection.forEach((s, k) => {
    if (!Number.isInteger(s.windows) || s.windows <= 0) {
      throw new Error(`EvoPress: selection step ${k + 1} scores on ${s.windows} windows; it needs a whole number ≥ 1`);
    }
    if (!Number.isInteger(s.survivors) || s.survivors <= 0) {
      throw new Error(`EvoPress: selection step ${k + 1} keeps ${s.survivors} candidates; it needs a whole number ≥ 1`);
    }
  });
}

function checkState(state: EvoPressState, bounds: LevelBounds[]): void {
  if (state.levels.length !== bounds.length) {
    throw new Error(`EvoPress: the state has ${state.levels.length} units, the problem ${bounds.length}`);
  }
  state.levels.forEach((l, u) => {
    if (!Number.isInteger(l) || l < bounds[u].lo || l > bounds[u].hi) {
      throw new Error(
        `EvoPress: the state's level ${l} of unit ${u + 1} is outside its grid [${bounds[u].lo}, ${bounds[u].hi}]`,
      );
    }
  });
  if (state.levels.reduce((a, l) => a + l, 0) !== 0) {
    throw new Error('EvoPress: the state’s levels do not sum to 0, so its split misses the target');
  }
  if (!Number.isInteger(state.generation) || state.generation < 0) {
    throw new Error(`EvoPress: the state's generation ${state.generation} is not a whole number ≥ 0`);
  }
}

// A score that is not a number (a diverged model) ranks below every other.
const rank = (f: number): number => (Number.isNaN(f) ? Infinity : f);

/**
 * EvoPress from the uniform split (or from `opts.state`) to `opts.generations` generations. Each
 * generation draws `offspring` distinct level-switch mutants of the parent (none equal to it),
 * passes them through the selection steps, and lets the parent compete in the last one with its
 * kept score: the best of that step is the next parent, so the fitness never rises. The signal is
 * checked before every evaluation; a cancelled search rejects with the signal's reason, and the last
 * onProgress state resumes it, giving the same result as an uninterrupted run.
 */
export async function evoPressSearch(
  problem: EvoPressProblem,
  fitness: EvoPressFitness,
  opts: EvoPressOptions = {},
): Promise<EvoPressResult> {
  const bounds = levelBounds(problem);
  const generations = opts.generations ?? EVOPRESS_REFERENCE.generations;
  const offspring = opts.offspring ?? EVOPRESS_REFERENCE.offspring;
  const selection = opts.selection ?? defaultSelection();
  checkSelection(selection, offspring, generations);
  if (opts.state) checkState(opts.state, bounds);
  const { signal } = opts;
  const finalWindows = selection[selection.length - 1].windows;

  let evaluations = opts.state?.evaluations ?? 0;
  const evaluate = async (levels: number[], windows: number): Promise<number> => {
    signal?.throwIfAborted();
    const f = await fitness(levelSparsities(problem, levels), windows, signal);
    evaluations++;
    return f;
  };

  const rng = new Mulberry32(opts.state ? opts.state.rng : (opts.seed ?? 0));
  let generation = opts.state?.generation ?? 0;
  let parent = opts.state ? opts.state.levels.slice() : new Array<number>(bounds.length).fill(0);
  let parentFitness: number;
  const snapshot = (): EvoPressState => ({
    generation,
    levels: parent.slice(),
    fitness: parentFitness,
    fitnessWindows: finalWindows,
    rng: rng.state,
    evaluations,
  });
  const report = () => {
    const state = snapshot();
    opts.onProgress?.({
      generation,
      generations,
      best: { sparsities: levelSparsities(problem, parent), levels: parent.slice(), fitness: parentFitness },
      evaluations,
      state,
    });
  };

  // The parent's score is reused only if it was measured on the windows its rivals will be.
  if (opts.state && opts.state.fitnessWindows === finalWindows) {
    parentFitness = opts.state.fitness;
  } else {
    parentFitness = await evaluate(parent, finalWindows);
    if (!opts.state) report();
  }

  // Distinct offspring are drawn until there are enough; a small grid may hold fewer, so the
  // draws are bounded rather than looping for ever as the reference would.
  const maxDraws = 100 * offspring;
  while (generation < generations) {
    const parentKey = parent.join(',');
    const seen = new Set<string>([parentKey]);
    let candidates: number[][] = [];
    for (let draw = 0; draw < maxDraws && candidates.length < offspring; draw++) {
      const child = levelSwitchMutation(parent, bounds, rng);
      const key = child.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      candidates.push(child);
    }
    let scores: number[] = [];
    for (let k = 0; k < selection.length; k++) {
      const step = selection[k];
      scores = [];
      for (const c of candidates) scores.push(await evaluate(c, step.windows));
      if (k === selection.length - 1) {
        // Elitism: the parent last, so that an offspring as good as it takes its place.
        candidates = [...candidates, parent];
        scores = [...scores, parentFitness];
      }
      const order = candidates.map((_, i) => i).sort((a, b) => rank(scores[a]) - rank(scores[b]) || a - b);
      const keep = order.slice(0, step.survivors);
      candidates = keep.map((i) => candidates[i]);
      scores = keep.map((i) => scores[i]);
    }
    parent = candidates[0];
    parentFitness = scores[0];
    generation++;
    report();
  }

  return {
    sparsities: levelSparsities(problem, parent),
    levels: parent.slice(),
    fitness: parentFitness,
    evaluations,
    state: snapshot(),
  };
}
