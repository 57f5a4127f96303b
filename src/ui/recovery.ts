// Recovery after pruning as the page states it, pure: the worker's request for a choice of the form,
// the form's defaults as it changes, what is wrong with its values or data, and the memory budget
// its estimate is weighed against (the estimate itself is the engine's: src/engine/recovery/memory.ts, through the worker's client).
import { RECOVERY_MODES, type RecoveryDataId, recoveryModeEntry } from '../engine/recovery/modes';
import {
  largestFittingBatch,
  type ModelSummary,
  type RecoverRequest,
  recoveryMemory,
  TAB_MEMORY_BUDGET,
  type WorkbenchRecipe,
} from '../workers/client';
import { formatBytes } from './format';
import { checkRecoveryChoice, LinkError, type RecoveryChoice, WARMUP_SHARE } from './share';

export { largestFittingBatch, recoveryMemory };

/** The loss every 1/50 of the run (at most every step), the held-out metric four times and at the end. */
export function streamingOf(steps: number): { logEvery: number; evalEvery: number } {
  return { logEvery: Math.max(1, Math.round(steps / 50)), evalEvery: Math.max(1, Math.ceil(steps / 4)) };
}

/** The worker's request for a recovery of `recipe`: every setting from the choice, nothing else. */
export function recoveryRequestOf(c: RecoveryChoice, recipe: WorkbenchRecipe): RecoverRequest {
  return {
    recipe,
    recovery: {
      mode: c.mode,
      steps: c.steps,
      learningRate: c.learningRate,
      warmupSteps: c.warmupSteps,
      batchSize: c.batchSize,
      seed: c.seed,
      ...streamingOf(c.steps),
      ...(c.mode === 'distill' ? { temperature: c.temperature } : {}),
      ...(c.mode === 'lora' ? { rank: c.rank, alpha: c.alpha } : {}),
      data: c.data,
    },
  };
}

/**
 * A patch of the form applied: another mode takes its learning rate, other steps their 10% of
 * warm-up, unless the patch sets them too.
 */
export function patchedChoice(before: RecoveryChoice, patch: Partial<RecoveryChoice>): RecoveryChoice {
  const next = { ...before, ...patch };
  if (patch.mode && patch.mode !== before.mode && !('learningRate' in patch))
    next.learningRate = recoveryModeEntry(patch.mode).defaultLearningRate;
  if (patch.steps !== undefined && patch.steps !== before.steps && !('warmupSteps' in patch))
    next.warmupSteps = Math.round(patch.steps * WARMUP_SHARE);
  next.warmupSteps = Math.min(next.warmupSteps, next.steps);
  return next;
}

/** What is wrong with a form's values, as the link would refuse them; null when the worker can take them. */
export function choiceProblem(c: RecoveryChoice): string | null {
  try {
    checkRecoveryChoice(c);
    return null;
  } catch (e) {
    if (e instanceof LinkError) return `These settings cannot be used: ${e.message}.`;
    throw e;
  }
}

/** Why a data source cannot be trained on for this model; null when it can. */
export function dataRefusal(data: RecoveryDataId, summary: ModelSummary, ownData: boolean): string | null {
  if (data === 'train' && !summary.calibSet) return 'this model came without a training slice (calib.safetensors)';
  if (data === 'custom' && !ownData) return 'give the model a data file of your own first (under its baseline)';
  return null;
}

/** The budget the worker decides "too big for the tab" by: the page's ?memory-budget=, else the tab's. */
export const memoryBudgetOf = (summary: ModelSummary, asked: number | null): number =>
  summary.streamed?.budget ?? asked ?? TAB_MEMORY_BUDGET;

/**
 * What the run needs in memory when it is over the budget, and what fits instead: a smaller batch
 * of the same mode, another mode (at GPT-2 small's size only LoRA fits), or, when nothing fits at a
 * language model's windows, the longest window a mode fits at a batch of 1 (activations grow with
 * the tokens a step). Null when it fits. The counts: src/engine/recovery/memory.ts.
 */
export function memoryNote(summary: ModelSummary, c: RecoveryChoice, budget: number, window: number): string | null {
  const asked = recoveryMemory(summary, c.mode, c.batchSize, window);
  if (asked <= budget) return null;
  const label = recoveryModeEntry(c.mode).label;
  const over = `${label} at a batch of ${c.batchSize} needs about ${formatBytes(asked)} here, over this tab’s ${formatBytes(budget)}.`;
  const fitting = RECOVERY_MODES.map((m) => ({
    m,
    batch: largestFittingBatch(summary, m.id, window, budget, c.batchSize),
  })).filter((f) => f.batch > 0);
  if (fitting.length === 0) return `${over} ${shorterWindowNote(summary, budget, window)}`;
  const same = fitting.find((f) => f.m.id === c.mode);
  if (same) return `${over} A batch of ${same.batch} fits.`;
  const best = fitting[0];
  const needs = formatBytes(recoveryMemory(summary, best.m.id, best.batch, window));
  return `${over} ${best.m.label} is the mode that fits a tab (a batch of ${best.batch}: about ${needs}). ${best.m.summary}`;
}

/** The longest window (a power of two below `window`, 16 at least) a mode fits on at a batch of 1. */
function shorterWindowNote(summary: ModelSummary, budget: number, window: number): string {
  if (summary.family === 'causal-lm')
    for (let w = 2 ** Math.floor(Math.log2(window - 1)); w >= 16; w /= 2)
      for (const m of RECOVERY_MODES) {
        const needs = recoveryMemory(summary, m.id, 1, w);
        if (needs <= budget)
          return `${m.label} is the mode that fits a tab, on windows of ${w} tokens at a batch of 1 (about ${formatBytes(needs)}): set Window (tokens) to ${w}. ${m.summary}`;
      }
  return 'No mode fits at this size.';
}
