// What a recovery needs in memory, counted from the model's shape before it runs, so that the page
// can say which mode fits the tab's budget (the budget that decides whether a model is read a block
// at a time) and the CLI can refuse what the WASM backend cannot address.
import type { ModelSummary } from '../session';
import { RUNTIME_BYTES } from '../stream/memory';
import type { RecoveryModeId } from './modes';

/** What wasm32's heap can address: the WASM backend's tensors all live in it. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * f32 copies of the weights each mode holds while it trains, beyond the model: fine-tuning and
 * distillation the trained weights, their gradients, Adam's two moments, the best so far and the
 * products' packed copies; LoRA one masked copy of the base, and each step's merged linears with
 * the products the gradient tape keeps of them (W + s·B·A, masked) and their packed copies. On
 * GPT-2 small's shape (0.5 GB of weights) both ran out of the WASM heap at a batch of one window of
 * 32 tokens: at least 8 copies, which these counts meet.
 */
const TRAINING_COPIES: Record<RecoveryModeId, number> = { finetune: 7, distill: 7, lora: 6 };
/** The model as the worker holds it while recovering: the checkpoint on the host, its tensors, the pruned copy. */
const HELD_COPIES = 3;

/**
 * Memory a recovery needs in the worker, counted from the model's shape (not measured): the
 * runtime, the weights held and the mode's copies, and a language model's logits for one batch
 * (with their softmax and gradient, and distillation's teacher logits), which dominate its
 * activations at a large vocabulary.
 */
export function recoveryMemory(
  summary: Pick<ModelSummary, 'cost' | 'family' | 'vocabSize'>,
  mode: RecoveryModeId,
  batchSize: number,
  window: number,
): number {
  const weights = 4 * summary.cost.params;
  const logits =
    summary.family === 'causal-lm'
      ? 4 * batchSize * window * (summary.vocabSize ?? 0) * (mode === 'distill' ? 4 : 3)
      : 0;
  return RUNTIME_BYTES + (HELD_COPIES + TRAINING_COPIES[mode]) * weights + logits;
}

/** The largest batch (up to `most`) at which a mode fits the budget; 0 when none does. */
export function largestFittingBatch(
  summary: Pick<ModelSummary, 'cost' | 'family' | 'vocabSize'>,
  mode: RecoveryModeId,
  window: number,
  budget: number,
  most: number,
): number {
  let fits = 0;
  for (let b = 1; b <= most && recoveryMemory(summary, mode, b, window) <= budget; b++) fits = b;
  return fits;
}
