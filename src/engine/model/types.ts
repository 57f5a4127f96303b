// Shapes of what goes into and comes out of a forward pass, shared by every architecture.
import type * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from './layers';
import type { TokenScoring } from './tokens';

/** Checkpoint tensors by their Hugging Face name (tf.Variables while training). */
export type Weights = Map<string, tf.Tensor>;

/**
 * What to remove from the model in the forward pass. Every field is optional; an absent field
 * removes nothing. Masks multiply (1 keeps, 0 removes), so a masked forward equals the forward of
 * the physically smaller model.
 */
export interface ModelMasks {
  /** Per-weight masks (0/1, or bool: true where kept), same shape as the checkpoint tensor of that name. */
  weights?: Map<string, tf.Tensor>;
  /** [layer][head] 0/1: a removed head contributes nothing to its attention output. */
  heads?: number[][];
  /** [layer][neuron] 0/1 over the FFN's intermediate units. */
  neurons?: number[][];
  /** Per block: false removes the attention sublayer (the residual passes through). */
  attention?: boolean[];
  /** Per block: false removes the FFN sublayer. A block is removed when both are false. */
  mlp?: boolean[];
}

/** What the forward pass hands back besides the logits, on request (each costs memory). */
export interface Capture {
  /** Attention probabilities of every layer: [B, heads, T, T] each. */
  attention?: boolean;
  /** Hidden state entering and leaving every block: [B, T, d] each. */
  hidden?: boolean;
  /** Per linear layer, Σ over batch and tokens of x_j² for each input feature j (Wanda's ‖X_j‖²). */
  activationStats?: boolean;
  /** Per linear layer, Σ over batch and tokens of x·xᵀ, [in, in] (SparseGPT's Hessian / 2). */
  activationGram?: boolean | ((weightName: string) => boolean);
  /**
   * Per attention layer, reduced inside the forward so no [B, H, T, T] map is kept: Σ over batch and
   * queries of each head's context norm ‖context_h‖₂ (after head mask and gate) and of the entropy
   * of its attention distribution (nats). Head-importance scores read these.
   */
  headStats?: boolean;
}

/**
 * Runs some linear layers' products another way than tf.matMul on the stored matrix: our sparse
 * GPU kernels for pruned layers (engine/gpu/sparse-linears.ts). Inference only: it has no gradient.
 */
export interface LinearOverride {
  /** y = x · Wᵀ ([N, out], no bias) for the layer whose weight is `weight`, or null for the dense path. */
  matmul(weight: string, x: tf.Tensor2D): tf.Tensor2D | null;
  /**
   * Called between evaluation batches, outside any tidy: time to measure the shapes first seen in
   * the batch before (a measured rule needs awaited GPU timings, which a forward pass cannot wait for).
   * Stops between timings once `signal` is aborted: on a slow adapter they take tens of seconds.
   */
  settle?(signal?: AbortSignal): Promise<void>;
}

export interface ForwardOptions {
  masks?: ModelMasks;
  /** Products of some linear layers computed another way (see LinearOverride). */
  linears?: LinearOverride;
  capture?: Capture;
  /**
   * Embed tokens by one-hot × matrix instead of a gather. The WASM backend has no kernel for the
   * gather's gradient (UnsortedSegmentSum), so training on it needs this; inference does not.
   */
  oneHotEmbedding?: boolean;
  /**
   * Continuous per-head gates ξ, [layer] → [heads] or [B, heads], multiplying each head's context as
   * the head mask does. At ξ = 1 the output is unchanged; ∂L/∂ξ_h is Michel et al.'s head importance.
   * A [B, heads] gate gives every example its own gate, hence per-example gradients in one pass.
   */
  headGates?: (tf.Tensor | undefined)[];
  /** The same for FFN neurons: [layer] → [inner] or [B, inner], multiplying the activations. */
  neuronGates?: (tf.Tensor | undefined)[];
  /**
   * Dynamic token pruning, a keep ratio r per block: of the n tokens block l − 1 processed, block l
   * keeps the protected one (ViT's CLS, the LM's last position) plus the round(r · (n − 1)) others
   * that received the most attention in block l − 1. 1 or absent: no pruning there; block 0 (no
   * earlier attention) and blocks after one that computed no attention are never pruned. Ratios
   * compound from block to block. model/tokens.ts has the rule; its `tokenCounts` gives the counts.
   */
  tokenKeep?: number[];
  /** How tokens are ranked for `tokenKeep` (default: the family's, model/tokens.ts defaultTokenScoring). */
  tokenScoring?: TokenScoring;
  /**
   * A block is run only for what it captures of its linears' inputs, its output unread (the block
   * loop's statistics pass): its FFN output layer, whose product reaches nothing but that output,
   * gives zeros in place of the product, a third of a GPT-2 block's multiply-adds. Blocks after it
   * would see those zeros.
   */
  statisticsOnly?: boolean;
}

export interface ForwardOutput {
  /** [B, T, vocab] for a causal LM, [B, labels] for a classifier. */
  logits: tf.Tensor;
  attention?: tf.Tensor[];
  hiddenIn?: tf.Tensor[];
  hiddenOut?: tf.Tensor[];
  /** Keyed by the linear layer's weight name; each [inFeatures]. Rows counted = B × T. */
  activationSqSum?: Record<string, tf.Tensor>;
  activationGram?: Record<string, tf.Tensor>;
  /** capture.headStats: per layer [heads] (undefined where the attention sublayer is removed). */
  headNormSum?: (tf.Tensor | undefined)[];
  attentionEntropySum?: (tf.Tensor | undefined)[];
  /**
   * With tokenKeep: per block, the original positions ([B, T_l] int32, ascending) of the tokens that
   * block processed. A causal LM's logits are then [B, T_last, vocab], one row per position of the
   * last block, in this order; the last position (index T − 1) is always the final row.
   */
  tokenPositions?: tf.Tensor[];
}

/**
 * A forward pass in stages — embed the input, run one block, read the head — so a caller can run the
 * blocks one at a time (block-by-block calibration) and `forward` can compose them.
 */
export interface ModelStages {
  /** input: token ids [B, T] (int32) for GPT-2; normalised pixels [B, C, H, W] for ViT. → h [B, T, d]. */
  embed(ctx: ForwardContext, input: tf.Tensor): tf.Tensor;
  /** Block i on h [B, T, d] (token pruning before it, when asked). */
  block(ctx: ForwardContext, i: number, h: tf.Tensor): tf.Tensor;
  /** Logits: [B, T, vocab] for a causal LM, [B, labels] for a classifier. */
  head(ctx: ForwardContext, h: tf.Tensor): tf.Tensor;
}
