// Plain-TypeScript reference forward passes (loops over Float32Arrays, no TensorFlow.js): the twin
// the TensorFlow.js forward is checked against. Written for clarity, not speed — only tiny models
// go through it. Follows `transformers`' modeling_gpt2 and modeling_vit step by step.
import type { Activation, Gpt2Config, LlamaConfig, ModelConfig, VitConfig } from './config';
import { ropeInvFreq, rotateReference } from './rotary';
import type { HostTensor } from './checkpoint';
import { GPT2_PREFIX, LLAMA_PREFIX, linearSpecs, type LinearSpec } from './schema';
import {
  attentionReceived,
  defaultTokenScoring,
  protectedIndex,
  selectTokens,
  tokenCounts,
  type TokenScoring,
} from './tokens';

export interface ReferenceMasks {
  weights?: Map<string, Float32Array>;
  heads?: number[][];
  neurons?: number[][];
  attention?: boolean[];
  mlp?: boolean[];
}

export interface ReferenceOutput {
  /** GPT-2: [T][vocab] for the one sequence; ViT: [1][labels]. */
  logits: number[][];
  /** [layer][head][query][key] */
  attention: number[][][][];
  /** With tokenKeep: per block, the original positions of the tokens it processed. */
  positions?: number[][];
}

export interface ReferenceOptions {
  /** Per-block token keep ratios, as ForwardOptions.tokenKeep. */
  tokenKeep?: number[];
  /** As ForwardOptions.tokenScoring. */
  tokenScoring?: TokenScoring;
}

/** Token pruning before each block, by the plain-TS selection of model/tokens.ts. */
class TokenPruner {
  readonly positions: number[][] = [];
  private pos: number[];
  private readonly counts: number[] | null;

  constructor(
    config: ModelConfig,
    masks: ReferenceMasks,
    opts: ReferenceOptions,
    seq: number,
    private readonly kind: TokenScoring,
  ) {
    this.counts = opts.tokenKeep ? tokenCounts(config, opts.tokenKeep, { masks, seq }) : null;
    this.pos = Array.from({ length: seq }, (_, i) => i);
  }

  /** The original positions of the tokens now in play. */
  get current(): number[] {
    return this.pos;
  }

  prune(layer: number, h: Mat, attention: number[][][][], masks: ReferenceMasks): Mat {
    if (!this.counts) return h;
    if (this.counts[layer] < h.length) {
      const scores = attentionReceived(attention[layer - 1], this.kind, masks.heads?.[layer - 1]);
      const idx = selectTokens(scores, this.counts[layer], protectedIndex(this.kind, h.length));
      h = idx.map((j) => h[j]);
      this.pos = idx.map((j) => this.pos[j]);
    }
    this.positions.push(this.pos);
    return h;
  }
}

type Mat = number[][]; // [tokens][features]

class Ref {
  constructor(
    private readonly w: Map<string, HostTensor>,
    private readonly masks: ReferenceMasks,
  ) {}

  has(name: string): boolean {
    return this.w.has(name);
  }

  vec(name: string): Float32Array {
    const t = this.w.get(name);
    if (!t) throw new Error(`reference: missing ${name}`);
    const m = this.masks.weights?.get(name);
    return m ? t.data.map((v, i) => v * m[i]) : t.data;
  }

  linear(spec: LinearSpec, x: Mat): Mat {
    const w = this.vec(spec.weight);
    const b = spec.bias ? this.vec(spec.bias) : null;
    const { inFeatures: n, outFeatures: m } = spec;
    return x.map((row) => {
      const out = new Array<number>(m);
      for (let o = 0; o < m; o++) {
        let s = b ? b[o] : 0;
        for (let i = 0; i < n; i++) s += row[i] * (spec.layout === 'in_out' ? w[i * m + o] : w[o * n + i]);
        out[o] = s;
      }
      return out;
    });
  }

  layerNorm(prefix: string, x: Mat, eps: number): Mat {
    const g = this.vec(`${prefix}.weight`);
    const b = this.vec(`${prefix}.bias`);
    return x.map((row) => {
      const mean = row.reduce((a, v) => a + v, 0) / row.length;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length;
      const inv = 1 / Math.sqrt(variance + eps);
      return row.map((v, i) => (v - mean) * inv * g[i] + b[i]);
    });
  }

  /**
   * Multi-head attention on q [T][H·dh] and k, v [T][G·dh] (G key/value heads, each serving H / G
   * consecutive query heads); returns the merged context and per-head probabilities. With `rotary`,
   * q and k are rotated at the tokens' original `positions`; a sliding window hides keys that many
   * positions back or more.
   */
  attention(
    layer: number,
    q: Mat,
    k: Mat,
    v: Mat,
    opts: {
      nHead: number;
      nKv?: number;
      causal: boolean;
      rotary?: { invFreq: Float32Array; positions: number[] };
      slidingWindow?: number | null;
    },
  ): { context: Mat; probs: number[][][] } {
    const t = q.length;
    const { nHead } = opts;
    const nKv = opts.nKv ?? nHead;
    const dh = q[0].length / nHead;
    const group = nHead / nKv;
    const headOf = (x: Mat, h: number, pos: (i: number) => number) =>
      x.map((row, i) => {
        const part = row.slice(h * dh, (h + 1) * dh);
        return opts.rotary ? rotateReference(part, pos(i), opts.rotary.invFreq) : part;
      });
    const pos = (i: number) => opts.rotary?.positions[i] ?? i;
    const context: Mat = q.map(() => new Array<number>(nHead * dh).fill(0));
    const probs: number[][][] = [];
    for (let h = 0; h < nHead; h++) {
      const keep = this.masks.heads?.[layer]?.[h] ?? 1;
      const qh = headOf(q, h, pos);
      const kv = Math.floor(h / group);
      const kh = headOf(k, kv, pos);
      const ph: number[][] = [];
      for (let i = 0; i < t; i++) {
        const scores = new Array<number>(t);
        for (let j = 0; j < t; j++) {
          let s = 0;
          for (let e = 0; e < dh; e++) s += qh[i][e] * kh[j][e];
          const hidden =
            (opts.causal && j > i) || (opts.slidingWindow != null && pos(i) - pos(j) >= opts.slidingWindow);
          scores[j] = hidden ? -Infinity : s / Math.sqrt(dh);
        }
        const max = Math.max(...scores);
        const ex = scores.map((s) => Math.exp(s - max));
        const sum = ex.reduce((a, v) => a + v, 0);
        const p = ex.map((e) => e / sum);
        ph.push(p);
        for (let e = 0; e < dh; e++) {
          let s = 0;
          for (let j = 0; j < t; j++) s += p[j] * v[j][kv * dh + e];
          context[i][h * dh + e] = s * keep;
        }
      }
      probs.push(ph);
    }
    return { context, probs };
  }

  rmsNorm(name: string, x: Mat, eps: number): Mat {
    const g = this.vec(name);
    return x.map((row) => {
      const inv = 1 / Math.sqrt(row.reduce((a, v) => a + v * v, 0) / row.length + eps);
      return row.map((v, i) => v * inv * g[i]);
    });
  }

  maskNeurons(layer: number, x: Mat): Mat {
    const m = this.masks.neurons?.[layer];
    return m ? x.map((row) => row.map((v, i) => v * m[i])) : x;
  }
}

function act(kind: Activation, x: number): number {
  switch (kind) {
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'relu':
      return Math.max(0, x);
    case 'silu':
      return x / (1 + Math.exp(-x));
  }
}

/** Math has no erf: a Maclaurin series below 2.5, a continued fraction for erfc above; ~1e-12. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast for |x| < 2.5.
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

const add = (a: Mat, b: Mat): Mat => a.map((row, i) => row.map((v, j) => v + b[i][j]));
const mapAct = (kind: Activation, x: Mat): Mat => x.map((row) => row.map((v) => act(kind, v)));

export function referenceForward(
  config: ModelConfig,
  weights: Map<string, HostTensor>,
  input: number[] | Float32Array,
  masks: ReferenceMasks = {},
  opts: ReferenceOptions = {},
): ReferenceOutput {
  switch (config.kind) {
    case 'gpt2':
      return referenceGpt2(config, weights, input as number[], masks, opts);
    case 'llama':
      return referenceLlama(config, weights, input as number[], masks, opts);
    case 'vit':
      return referenceVit(config, weights, input as Float32Array, masks, opts);
  }
}

function referenceGpt2(
  c: Gpt2Config,
  weights: Map<string, HostTensor>,
  ids: number[],
  masks: ReferenceMasks,
  opts: ReferenceOptions,
): ReferenceOutput {
  const r = new Ref(weights, masks);
  const d = c.nEmbd;
  const wte = r.vec(`${GPT2_PREFIX}wte.weight`);
  const wpe = r.vec(`${GPT2_PREFIX}wpe.weight`);
  let h: Mat = ids.map((id, pos) => Array.from({ length: d }, (_, e) => wte[id * d + e] + wpe[pos * d + e]));
  const linears = linearSpecs(c);
  const attention: number[][][][] = [];
  const pruner = new TokenPruner(c, masks, opts, ids.length, opts.tokenScoring ?? defaultTokenScoring(c));
  for (let i = 0; i < c.nLayer; i++) {
    const p = `${GPT2_PREFIX}h.${i}`;
    const [qkvS, oS, fcS, projS] = linears.slice(4 * i, 4 * i + 4);
    h = pruner.prune(i, h, attention, masks);
    if (masks.attention?.[i] !== false) {
      const qkv = r.linear(qkvS, r.layerNorm(`${p}.ln_1`, h, c.layerNormEps));
      const part = (k: number) => qkv.map((row) => row.slice(k * d, (k + 1) * d));
      const { context, probs } = r.attention(i, part(0), part(1), part(2), { nHead: c.nHead, causal: true });
      attention.push(probs);
      h = add(h, r.linear(oS, context));
    } else attention.push([]);
    if (masks.mlp?.[i] !== false) {
      const inner = mapAct(c.activation, r.linear(fcS, r.layerNorm(`${p}.ln_2`, h, c.layerNormEps)));
      h = add(h, r.linear(projS, r.maskNeurons(i, inner)));
    }
  }
  return lmOutput(r, r.layerNorm(`${GPT2_PREFIX}ln_f`, h, c.layerNormEps), wte, c.vocabSize, attention, pruner, opts);
}

/** A language model's logits from its final hidden states: lm_head, or the embeddings when tied. */
function lmOutput(
  r: Ref,
  final: Mat,
  embedding: Float32Array,
  vocab: number,
  attention: number[][][][],
  pruner: TokenPruner,
  opts: ReferenceOptions,
): ReferenceOutput {
  const d = final[0]?.length ?? 0;
  const head = r.has('lm_head.weight') ? r.vec('lm_head.weight') : embedding;
  const logits = final.map((row) =>
    Array.from({ length: vocab }, (_, v) => row.reduce((s, x, e) => s + x * head[v * d + e], 0)),
  );
  return { logits, attention, ...(opts.tokenKeep ? { positions: pruner.positions } : {}) };
}

function referenceLlama(
  c: LlamaConfig,
  weights: Map<string, HostTensor>,
  ids: number[],
  masks: ReferenceMasks,
  opts: ReferenceOptions,
): ReferenceOutput {
  const r = new Ref(weights, masks);
  const d = c.hiddenSize;
  const embed = r.vec(`${LLAMA_PREFIX}embed_tokens.weight`);
  let h: Mat = ids.map((id) => Array.from(embed.subarray(id * d, (id + 1) * d)));
  const linears = linearSpecs(c);
  const invFreq = ropeInvFreq(c);
  const attention: number[][][][] = [];
  const pruner = new TokenPruner(c, masks, opts, ids.length, opts.tokenScoring ?? defaultTokenScoring(c));
  for (let i = 0; i < c.numLayers; i++) {
    const p = `${LLAMA_PREFIX}layers.${i}`;
    const [qS, kS, vS, oS, gateS, upS, downS] = linears.slice(7 * i, 7 * i + 7);
    h = pruner.prune(i, h, attention, masks);
    if (masks.attention?.[i] !== false) {
      const x = r.rmsNorm(`${p}.input_layernorm.weight`, h, c.rmsNormEps);
      const { context, probs } = r.attention(i, r.linear(qS, x), r.linear(kS, x), r.linear(vS, x), {
        nHead: c.numHeads,
        nKv: c.numKvHeads,
        causal: true,
        rotary: { invFreq, positions: pruner.current },
        slidingWindow: c.slidingLayers[i] ? c.slidingWindow : null,
      });
      attention.push(probs);
      h = add(h, r.linear(oS, context));
    } else attention.push([]);
    if (masks.mlp?.[i] !== false) {
      const x = r.rmsNorm(`${p}.post_attention_layernorm.weight`, h, c.rmsNormEps);
      const gate = mapAct(c.activation, r.linear(gateS, x));
      const up = r.linear(upS, x);
      const inner = gate.map((row, t) => row.map((g, j) => g * up[t][j]));
      h = add(h, r.linear(downS, r.maskNeurons(i, inner)));
    }
  }
  return lmOutput(
    r,
    r.rmsNorm(`${LLAMA_PREFIX}norm.weight`, h, c.rmsNormEps),
    embed,
    c.vocabSize,
    attention,
    pruner,
    opts,
  );
}

/** pixels: one image [C, H, W], already normalised. */
function referenceVit(
  c: VitConfig,
  weights: Map<string, HostTensor>,
  pixels: Float32Array,
  masks: ReferenceMasks,
  opts: ReferenceOptions,
): ReferenceOutput {
  const r = new Ref(weights, masks);
  const { patchSize: p, imageSize: s, numChannels: ch, hiddenSize: d } = c;
  const g = s / p;
  const linears = linearSpecs(c);
  const patches: Mat = [];
  for (let pr = 0; pr < g; pr++) {
    for (let pc = 0; pc < g; pc++) {
      const flat: number[] = [];
      for (let k = 0; k < ch; k++) {
        for (let y = 0; y < p; y++)
          for (let x = 0; x < p; x++) flat.push(pixels[k * s * s + (pr * p + y) * s + pc * p + x]);
      }
      patches.push(flat);
    }
  }
  const cls = r.vec('vit.embeddings.cls_token');
  const pos = r.vec('vit.embeddings.position_embeddings');
  let h: Mat = [Array.from(cls), ...r.linear(linears[0], patches)].map((row, t) =>
    row.map((v, e) => v + pos[t * d + e]),
  );
  const attention: number[][][][] = [];
  const pruner = new TokenPruner(c, masks, opts, h.length, opts.tokenScoring ?? defaultTokenScoring(c));
  for (let i = 0; i < c.numLayers; i++) {
    const pre = `vit.encoder.layer.${i}`;
    const [qS, kS, vS, oS, inS, outS] = linears.slice(1 + 6 * i, 7 + 6 * i);
    h = pruner.prune(i, h, attention, masks);
    if (masks.attention?.[i] !== false) {
      const x = r.layerNorm(`${pre}.layernorm_before`, h, c.layerNormEps);
      const { context, probs } = r.attention(i, r.linear(qS, x), r.linear(kS, x), r.linear(vS, x), {
        nHead: c.numHeads,
        causal: false,
      });
      attention.push(probs);
      h = add(h, r.linear(oS, context));
    } else attention.push([]);
    if (masks.mlp?.[i] !== false) {
      const inner = mapAct(c.activation, r.linear(inS, r.layerNorm(`${pre}.layernorm_after`, h, c.layerNormEps)));
      h = add(h, r.linear(outS, r.maskNeurons(i, inner)));
    }
  }
  const f = r.layerNorm('vit.layernorm', h, c.layerNormEps);
  return {
    logits: r.linear(linears[linears.length - 1], [f[0]]),
    attention,
    ...(opts.tokenKeep ? { positions: pruner.positions } : {}),
  };
}
