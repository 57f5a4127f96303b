// Building blocks both architectures share: layer norm, linear layers in either weight layout,
// activations, multi-head attention, and the bookkeeping for masks and captured statistics.
import * as tf from '@tensorflow/tfjs';
import {
  fusedAttention,
  fusedAttentionReady,
  fusedPackedAttention,
  geluErf,
  geluTanh,
  gram,
  layerNorm,
  linear,
  silu,
  sumSquares,
} from '../backends/fused';
import type { Activation, ModelConfig } from './config';
import { applyRotary } from './rotary';
import type { LinearSpec } from './schema';
import type { ForwardOptions, ForwardOutput, Weights } from './types';
import {
  attentionReceivedTf,
  defaultTokenScoring,
  protectedIndex,
  selectTokensTf,
  tokenCounts,
  type TokenScoring,
} from './tokens';

interface AttentionOptions {
  headDim: number;
  causal: boolean;
  rotary?: Float32Array;
  slidingWindow?: number | null;
}

/**
 * Rows of input from which stackedAttention stacks the three projections: the copy of their
 * weights then costs under a fiftieth of the product (vit-fashion's batches have 2,040 rows).
 */
const STACK_MIN_ROWS = 1024;

/**
 * One forward pass's state, threaded through the stages of model/forward.ts: the weights and
 * options, what is captured, and the token-pruning bookkeeping that spans blocks.
 */
export class ForwardContext {
  readonly out: Omit<ForwardOutput, 'logits'> = {};
  /** The latest attention probabilities and their layer, for token pruning before the next block. */
  private lastAttention: { layer: number; probs: tf.Tensor } | null = null;
  /** Original positions of the tokens still in play, [B, T_l] int32 (token pruning only). */
  private positions: tf.Tensor | null = null;
  /** Tokens each block keeps (tokenCounts for this sequence length); null without token pruning. */
  private counts: number[] | null = null;
  /** The causal mask of the last length asked, shared by the blocks of one pass. */
  private mask: tf.Tensor2D | null = null;
  private readonly scoring: TokenScoring;

  constructor(
    private readonly config: ModelConfig,
    private readonly weights: Weights,
    readonly options: ForwardOptions,
  ) {
    this.scoring = options.tokenScoring ?? defaultTokenScoring(config);
    const cap = options.capture ?? {};
    if (cap.attention) this.out.attention = [];
    if (cap.hidden) {
      this.out.hiddenIn = [];
      this.out.hiddenOut = [];
    }
    if (cap.activationStats) this.out.activationSqSum = {};
    if (cap.activationGram) this.out.activationGram = {};
    if (cap.headStats) {
      this.out.headNormSum = [];
      this.out.attentionEntropySum = [];
    }
    if (options.tokenKeep) this.out.tokenPositions = [];
  }

  /** The named checkpoint tensor, with its per-weight mask applied when one is given. */
  param(name: string): tf.Tensor {
    const w = this.weights.get(name);
    if (!w) throw new Error(`forward: missing tensor "${name}"`);
    const mask = this.options.masks?.weights?.get(name);
    return mask ? tf.mul(w, mask) : w;
  }

  has(name: string): boolean {
    return this.weights.has(name);
  }

  /**
   * y = x·W + b over the last axis of x, for either stored layout of W. The feature counts come from
   * the stored matrix, not the config, so a physically pruned checkpoint (fewer heads or neurons in
   * some blocks; see pruning/structured/physical.ts) runs through the same code.
   */
  linear(spec: LinearSpec, x: tf.Tensor): tf.Tensor {
    return this.scoped(() => this.unscopedLinear(spec, x));
  }

  private unscopedLinear(spec: LinearSpec, x: tf.Tensor): tf.Tensor {
    let w = this.param(spec.weight);
    let inF = spec.inFeatures;
    let outF = spec.outFeatures;
    if (w.rank !== 2)
      w = tf.reshape(w, [outF, inF]); // conv patch kernel
    else [inF, outF] = spec.layout === 'in_out' ? [w.shape[0]!, w.shape[1]!] : [w.shape[1]!, w.shape[0]!];
    const lead = x.shape.slice(0, -1);
    const bias = spec.bias ? this.param(spec.bias) : null;
    if (inF === 0 || outF === 0) {
      // Every head or neuron feeding (or fed by) this layer was removed: only the bias is left.
      const zero = tf.zeros([...lead, outF]);
      return bias ? tf.add(zero, bias) : zero;
    }
    const x2 = tf.reshape(x, [-1, inF]);
    if (this.out.activationSqSum) this.out.activationSqSum[spec.weight] = sumSquares(x2 as tf.Tensor2D);
    const grams = this.options.capture?.activationGram;
    if (grams && (grams === true || grams(spec.weight)))
      this.out.activationGram![spec.weight] = gram(x2 as tf.Tensor2D);
    if (this.options.statisticsOnly && spec.role === 'ffn_out') return tf.zeros([...lead, outF]);
    const replaced = this.options.linears?.matmul(spec.weight, x2 as tf.Tensor2D);
    const y = replaced
      ? bias
        ? tf.add(replaced, bias)
        : replaced
      : linear(x2 as tf.Tensor2D, w as tf.Tensor2D, bias as tf.Tensor1D | null, spec.layout === 'out_in');
    return tf.reshape(y, [...lead, outF]);
  }

  layerNorm(prefix: string, x: tf.Tensor, eps: number): tf.Tensor {
    return this.scoped(() => layerNorm(x, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`), eps));
  }

  activate(kind: Activation, x: tf.Tensor): tf.Tensor {
    return this.scoped(() => activate(kind, x));
  }

  /**
   * fn's result, with every other tensor fn made freed as it returns but for what the pass
   * captures. Freeing each step's intermediates at once, as PyTorch's reference counting does,
   * keeps the WASM heap to a few of a block's activations rather than all of them (a vit-fashion
   * evaluation's 87 → 50 MB): memory the next step reuses while it is still in cache, and fewer
   * fresh pages for a first pass to fault in. Token pruning reads the block before's attention, so
   * that pass keeps the caller's scope.
   */
  scoped(fn: () => tf.Tensor): tf.Tensor {
    if (this.options.tokenKeep) return fn();
    return (tf.tidy(() => ({ y: fn(), out: this.out as tf.TensorContainer })) as { y: tf.Tensor }).y;
  }

  /** Multiplies the FFN's intermediate activations [B, T, inner] by the neuron mask and gate of `layer`. */
  maskNeurons(layer: number, h: tf.Tensor): tf.Tensor {
    const m = this.options.masks?.neurons?.[layer];
    if (m) h = tf.mul(h, tf.tensor1d(m));
    const g = this.options.neuronGates?.[layer];
    if (g) h = tf.mul(h, g.rank === 1 ? g : tf.expandDims(g, 1));
    return h;
  }

  /**
   * A pre-norm transformer block as both architectures have it: token pruning before it, then
   * h + attention(h) and h + mlp(h), each sublayer skipped when the masks remove it, with the
   * hidden state captured on the way in and out. `sublayers` compute each sublayer's output
   * (its layer norm included).
   */
  residualBlock(
    layer: number,
    hIn: tf.Tensor,
    sublayers: { attention: (h: tf.Tensor) => tf.Tensor; mlp: (h: tf.Tensor) => tf.Tensor },
  ): tf.Tensor {
    let h = this.pruneTokens(layer, hIn);
    this.out.hiddenIn?.push(h);
    if (this.keepAttention(layer))
      h = tf.add(
        h,
        this.scoped(() => sublayers.attention(h)),
      );
    if (this.keepMlp(layer))
      h = tf.add(
        h,
        this.scoped(() => sublayers.mlp(h)),
      );
    this.out.hiddenOut?.push(h);
    return h;
  }

  keepAttention(layer: number): boolean {
    return this.options.masks?.attention?.[layer] !== false;
  }

  keepMlp(layer: number): boolean {
    return this.options.masks?.mlp?.[layer] !== false;
  }

  /**
   * Scaled dot-product attention: q [B, T, H·dh], k and v [B, T, G·dh] split into heads of width
   * dh (H and G read from the shapes, so a block with fewer heads works; under grouped-query
   * attention each of the G key/value heads serves H / G consecutive query heads). Rotary
   * embeddings rotate q and k at each token's original position; a sliding window hides keys that
   * many positions back or more. Returns the merged context [B, T, H·dh] with removed heads zeroed
   * and gated heads scaled.
   */
  attention(layer: number, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionOptions): tf.Tensor {
    return this.scoped(() => this.unscopedAttention(layer, q, k, v, opts));
  }

  /**
   * attention() of q, k and v side by side in qkv [B, T, qWidth + 2·kvWidth], as one projection
   * writes them: read where they lie by the fused kernel when the output is all that is asked of
   * it and nothing rotates q and k, else split first.
   */
  packedAttention(
    layer: number,
    qkv: tf.Tensor,
    [qWidth, kvWidth]: [number, number],
    opts: AttentionOptions,
  ): tf.Tensor {
    return this.scoped(() => {
      const dh = opts.headDim;
      if (qWidth > 0 && !opts.rotary && this.plainAttention(layer, opts) && fusedAttentionReady()) {
        const heads = qWidth / dh;
        const fused = fusedPackedAttention(qkv, { heads, kvHeads: kvWidth / dh, headDim: dh }, !!opts.causal);
        return this.maskHeads(layer, fused, heads, dh);
      }
      const [q, k, v] = tf.split(qkv, [qWidth, kvWidth, kvWidth], -1);
      return this.unscopedAttention(layer, q, k, v, opts);
    });
  }

  /**
   * attention() of x's three projections q, k and v (each its own linear layer of the same input,
   * as in ViT): where attention runs fused and no statistic, override or gradient watches a layer
   * on its own, the three [out, in] weights stacked as one (and their biases) make one product
   * whose [q | k | v] rows attention reads in place, wider than three thin ones (a 64-wide
   * layer's product ran at three quarters of a 192-wide one's rate). Stacking copies the weights,
   * so it waits for rows enough to repay it.
   */
  stackedAttention(
    layer: number,
    x: tf.Tensor,
    [q, k, v]: [LinearSpec, LinearSpec, LinearSpec],
    opts: AttentionOptions,
  ): tf.Tensor {
    const rows = x.size / x.shape[x.shape.length - 1]!;
    const specs = [q, k, v];
    const stackable =
      rows >= STACK_MIN_ROWS &&
      !opts.rotary &&
      !this.out.activationSqSum &&
      !this.options.capture?.activationGram &&
      !this.options.linears &&
      specs.every((s) => {
        const w = this.weights.get(s.weight); // its shape: param() would make the masked tensor
        return s.layout === 'out_in' && !!s.bias === !!q.bias && w?.rank === 2 && w.shape[0]! > 0;
      }) &&
      this.plainAttention(layer, opts) &&
      fusedAttentionReady();
    if (!stackable) return this.attention(layer, this.linear(q, x), this.linear(k, x), this.linear(v, x), opts);
    return this.scoped(() => {
      const [wq, wk, wv] = specs.map((s) => this.param(s.weight) as tf.Tensor2D);
      const bias = q.bias ? tf.concat(specs.map((s) => this.param(s.bias!))) : null;
      const [qWidth, kvWidth] = [wq.shape[0], wk.shape[0]];
      const x2 = tf.reshape(x, [rows, -1]) as tf.Tensor2D;
      const qkv = linear(x2, tf.concat([wq, wk, wv]) as tf.Tensor2D, bias as tf.Tensor1D | null, true);
      return this.packedAttention(layer, tf.reshape(qkv, [...x.shape.slice(0, -1), -1]), [qWidth, kvWidth], opts);
    });
  }

  /** The fused kernel's merged heads [B, T, H·dh] with block `layer`'s removed heads zeroed. */
  private maskHeads(layer: number, merged: tf.Tensor, nHead: number, dh: number): tf.Tensor {
    const headMask = this.options.masks?.heads?.[layer];
    if (!headMask) return merged;
    const [b, t] = merged.shape;
    const kept = tf.mul(tf.reshape(merged, [b!, t!, nHead, dh]), tf.reshape(tf.tensor1d(headMask), [nHead, 1]));
    return tf.reshape(kept, merged.shape);
  }

  /**
   * Whether block `layer`'s attention is only its output: no sliding window, and nothing that
   * reads the probabilities or the heads (captures, token pruning, head statistics or gates).
   */
  private plainAttention(layer: number, opts: AttentionOptions): boolean {
    return (
      !opts.slidingWindow &&
      !this.out.attention &&
      !this.out.headNormSum &&
      !this.options.tokenKeep &&
      !this.options.headGates?.[layer]
    );
  }

  /**
   * What rotates x [B, T, heads·dh] head by head at each token's position, for q and k alike; the
   * identity where the model has no rotary embeddings.
   */
  private rotation(b: number, t: number, dh: number, rotary: Float32Array | undefined): (x: tf.Tensor) => tf.Tensor {
    if (!rotary) return (x) => x;
    const positions = this.currentPositions(b, t);
    return (x) => {
      const width = x.shape[2]!;
      return tf.reshape(applyRotary(tf.reshape(x, [b, t, width / dh, dh]), positions, rotary, 2), [b, t, width]);
    };
  }

  private unscopedAttention(
    layer: number,
    q: tf.Tensor,
    k: tf.Tensor,
    v: tf.Tensor,
    opts: AttentionOptions,
  ): tf.Tensor {
    const [b, t, d] = q.shape;
    const dh = opts.headDim;
    const nHead = d / dh;
    if (nHead === 0) return tf.zeros([b, t, 0]);
    const nKv = k.shape[2]! / dh;
    if (!Number.isInteger(nHead / nKv)) throw new Error(`attention: ${nHead} query heads over ${nKv} key/value heads`);
    if (this.plainAttention(layer, opts) && fusedAttentionReady()) {
      const rotate = this.rotation(b, t, dh, opts.rotary);
      return this.maskHeads(layer, fusedAttention(rotate(q), rotate(k), v, dh, !!opts.causal), nHead, dh);
    }
    const split = (x: tf.Tensor, heads: number) => tf.transpose(tf.reshape(x, [b, t, heads, dh]), [0, 2, 1, 3]);
    let qh = split(q, nHead);
    let kh = split(k, nKv);
    let vh = split(v, nKv);
    if (opts.rotary) {
      const positions = this.currentPositions(b, t);
      qh = applyRotary(qh, positions, opts.rotary);
      kh = applyRotary(kh, positions, opts.rotary);
    }
    if (nKv !== nHead) {
      // Each key/value head repeated for its group of query heads: [B, G, T, dh] → [B, H, T, dh],
      // head h reading group ⌊h / size⌋. A broadcast product with ones, whose gradient (a sum over
      // the repeats) every backend has: a gather's needs UnsortedSegmentSum, which the WASM backend
      // lacks, and tile's gradient stops at rank 4.
      const size = nHead / nKv;
      const repeats = tf.ones([1, size, 1]);
      const group = (x: tf.Tensor) =>
        tf.reshape(tf.mul(tf.reshape(x, [b * nKv, 1, t * dh]), repeats), [b, nHead, t, dh]);
      kh = group(kh);
      vh = group(vh);
    }
    // Scaling q rather than the scores: the same product, over T·dh values instead of T².
    let scores = tf.matMul(tf.mul(qh, 1 / Math.sqrt(dh)), kh, false, true);
    if (opts.causal) scores = tf.add(scores, this.causalMask(t));
    if (opts.slidingWindow && t > 1) {
      // By original positions (token pruning keeps them): key j is hidden from query i when pᵢ − pⱼ ≥ window.
      const p = tf.cast(this.currentPositions(b, t), 'float32'); // [B or 1, T]
      const lag = tf.sub(tf.expandDims(p, 2), tf.expandDims(p, 1)); // [B, T, T]
      scores = tf.add(
        scores,
        tf.expandDims(tf.mul(tf.cast(tf.greaterEqual(lag, opts.slidingWindow), 'float32'), -1e9), 1),
      );
    }
    const probs = tf.softmax(scores, -1);
    this.out.attention?.push(probs);
    this.lastAttention = { layer, probs };
    let context = tf.matMul(probs, vh); // [B, H, T, dh]
    const headMask = this.options.masks?.heads?.[layer];
    if (headMask) context = tf.mul(context, tf.reshape(tf.tensor1d(headMask), [1, nHead, 1, 1]));
    const gate = this.options.headGates?.[layer];
    if (gate) context = tf.mul(context, tf.reshape(gate, [gate.rank === 1 ? 1 : b, nHead, 1, 1]));
    if (this.out.headNormSum) {
      this.out.headNormSum[layer] = tf.sum(tf.sqrt(tf.sum(tf.square(context), 3)), [0, 2]);
      // p·log p with 0·log 0 = 0 (the causal mask leaves exact zeros).
      const plogp = tf.mul(probs, tf.log(tf.maximum(probs, 1e-30)));
      this.out.attentionEntropySum![layer] = tf.neg(tf.sum(plogp, [0, 2, 3]));
    }
    return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b, t, d]);
  }

  /** Each token's original position, [B, T] under token pruning, else [1, T]. */
  /**
   * [T, T]: 0 where key j ≤ query i, −1e9 above the diagonal, written directly (bandPart is a dozen
   * ops) and once per pass and length rather than per block. A block run in its own tidy disposes it;
   * the next block then writes it again.
   */
  private causalMask(t: number): tf.Tensor2D {
    if (this.mask && !this.mask.isDisposed && this.mask.shape[0] === t) return this.mask;
    const m = new Float32Array(t * t);
    for (let i = 0; i < t; i++) m.fill(-1e9, i * t + i + 1, (i + 1) * t);
    this.mask = tf.tensor2d(m, [t, t]);
    return this.mask;
  }

  private currentPositions(b: number, t: number): tf.Tensor {
    if (this.positions && this.positions.shape[0] === b && this.positions.shape[1] === t) return this.positions;
    return tf.reshape(tf.range(0, t, 1, 'int32'), [1, t]);
  }

  /** RMSNorm as Llama's: x / sqrt(mean(x²) + eps) · weight, over the last axis. */
  rmsNorm(name: string, x: tf.Tensor, eps: number): tf.Tensor {
    return this.scoped(() => {
      const ms = tf.mean(tf.square(x), -1, true);
      return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), this.param(name));
    });
  }

  /** Called by the embedding with the sequence length: sets how many tokens each block keeps. */
  startTokens(seq: number): void {
    const keep = this.options.tokenKeep;
    this.counts = keep ? tokenCounts(this.config, keep, { masks: this.options.masks, seq }) : null;
  }

  /**
   * Token pruning before block `layer` (see model/tokens.ts): keeps the block's count of tokens of h
   * [B, T, d], chosen per example from the previous block's attention, and records the survivors'
   * original positions. Nothing to do without `tokenKeep`.
   */
  pruneTokens(layer: number, h: tf.Tensor): tf.Tensor {
    const counts = this.counts;
    if (!counts) return h;
    const kind = this.scoring;
    const [b, t] = h.shape;
    if (layer === 0) this.positions = tf.tile(tf.reshape(tf.range(0, t, 1, 'int32'), [1, t]), [b, 1]);
    if (counts[layer] < t) {
      const last = this.lastAttention;
      if (!last || last.layer !== layer - 1)
        throw new Error(`token pruning: block ${layer - 1} computed no attention to rank tokens by`);
      const scores = attentionReceivedTf(last.probs, kind, this.options.masks?.heads?.[layer - 1]);
      const idx = selectTokensTf(scores, counts[layer], protectedIndex(kind, t));
      h = gatherRows(h, idx);
      this.positions = gatherRows(this.positions!, idx);
    }
    this.out.tokenPositions!.push(this.positions!);
    return h;
  }
}

/**
 * x[b, idx[b, j], ...] for every example b: a batched gather done as one gather on the flattened
 * batch × token axis. (tf.gather with batchDims reads the wrong indices on the WASM backend:
 * tensorflow/tfjs#8658.)
 */
function gatherRows(x: tf.Tensor, idx: tf.Tensor2D): tf.Tensor {
  const [b, t] = x.shape;
  const rest = x.shape.slice(2);
  const offsets = tf.reshape(tf.range(0, b * t, t, 'int32'), [b, 1]);
  const flat = tf.reshape(tf.add(idx, offsets), [-1]);
  return tf.reshape(tf.gather(tf.reshape(x, [b * t, ...rest]), flat, 0), [b, idx.shape[1], ...rest]);
}

export function activate(kind: Activation, x: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'gelu': // exact: x·Φ(x)
      return geluErf(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh(x);
    case 'relu':
      return tf.relu(x);
    case 'silu':
      return silu(x);
  }
}
