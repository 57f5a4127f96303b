// Shapes of what goes into and comes out of a forward pass, shared by every architecture.
import type * as tf from '@tensorflow/tfjs';

/** Checkpoint tensors by their Hugging Face name (tf.Variables while training). */
export type Weights = Map<string, tf.Tensor>;

/**
 * What to remove from the model in the forward pass. Every field is optional; an absent field
 * removes nothing. Masks multiply (1 keeps, 0 removes), so a masked forward equals the forward of
 * the physically smaller model.
 */
export interface ModelMasks {
  /** Per-weight 0/1 masks, same shape as the checkpoint tensor of that name. */
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
}

export interface ForwardOptions {
  masks?: ModelMasks;
  capture?: Capture;
  /**
   * Embed tokens by one-hot × matrix instead of a gather. The WASM backend has no kernel for the
   * gather's gradient (UnsortedSegmentSum), so training on it needs this; inference does not.
   */
  oneHotEmbedding?: boolean;
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
}
