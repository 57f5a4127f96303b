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
 * products' packed copies; LoRA its bool masks and each product's merged matrix, made and freed
 * layer by layer (recovery/lora.ts), with the head's transposed copy — measured at 0.35 GB on
 * GPT-2 small's shape (0.5 GB of weights), under one copy.
 */
const TRAINING_COPIES: Record<RecoveryModeId, number> = { finetune: 7, distill: 7, lora: 1 };
/** The model as the worker holds it while recovering: the checkpoint on the host, its tensors, the pruned copy. */
const HELD_COPIES = 3;
/**
 * Floats a token keeps for the backward pass, per block in units of the model's width, and in units
 * of a language model's vocabulary for its logits (distillation adds the teacher's and their
 * softmax). TensorFlow.js keeps every activation the gradient needs and every gradient it has
 * computed until the backward pass ends: measured 9.0 MB a token on GPT-2 small's shape (12 blocks
 * of 768, a vocabulary of 50,257) and 0.47 MB on gpt-bytes (4 of 128, 256), LoRA at 64 to 1,024
 * tokens a step, the peak of live tensors less what was held before, with the cross-entropy's
 * gradient written out (model/loss.ts); the count leaves room for about four vocabularies a token
 * more (10.1 MB a token on GPT-2 small), what the cross-entropy differentiated op by op keeps.
 */
const ACTIVATION_WIDTHS = 230;
const LOGIT_COPIES: Record<RecoveryModeId, number> = { finetune: 8, distill: 10, lora: 8 };

/**
 * Memory a recovery needs in the worker, counted from the model's shape (not measured): the
 * runtime, the weights held, the mode's copies and the activations of one batch of `tokens`
 * tokens an example (a language model's window; a ViT's patches and class token).
 */
export function recoveryMemory(
  summary: Pick<ModelSummary, 'cost' | 'family' | 'vocabSize' | 'layers' | 'hidden'>,
  mode: RecoveryModeId,
  batchSize: number,
  tokens: number,
): number {
  const weights = 4 * summary.cost.params;
  const vocab = summary.family === 'causal-lm' ? (summary.vocabSize ?? 0) : 0;
  const perToken = 4 * (ACTIVATION_WIDTHS * summary.layers * summary.hidden + LOGIT_COPIES[mode] * vocab);
  return RUNTIME_BYTES + (HELD_COPIES + TRAINING_COPIES[mode]) * weights + batchSize * tokens * perToken;
}

/** The largest batch (up to `most`) at which a mode fits the budget; 0 when none does. */
export function largestFittingBatch(
  summary: Pick<ModelSummary, 'cost' | 'family' | 'vocabSize' | 'layers' | 'hidden'>,
  mode: RecoveryModeId,
  tokens: number,
  budget: number,
  most: number,
): number {
  let fits = 0;
  for (let b = 1; b <= most && recoveryMemory(summary, mode, b, tokens) <= budget; b++) fits = b;
  return fits;
}
