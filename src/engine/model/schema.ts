// The tensors each architecture's checkpoint holds, under the names `transformers` gives them, and
// the linear layers among them. Loading validates against this list, training initialises from it,
// and the cost model and pruning read the linear layers from it — one place that knows the layout.
import type { CausalLmConfig, Gpt2Config, LlamaConfig, ModelConfig, VitConfig } from './config';

/** How a weight matrix is stored: GPT-2's Conv1D keeps [in, out]; nn.Linear keeps [out, in]. */
export type Layout = 'in_out' | 'out_in';

export type LinearRole =
  | 'qkv'
  | 'q'
  | 'k'
  | 'v'
  | 'attn_out'
  /** SwiGLU's gate: its rows go with ffn_in's and ffn_out's columns, one FFN neuron. */
  | 'ffn_gate'
  | 'ffn_in'
  | 'ffn_out'
  | 'patch'
  | 'classifier';

export interface LinearSpec {
  weight: string;
  bias: string | null;
  layout: Layout;
  inFeatures: number;
  outFeatures: number;
  /** Block index, or -1 for layers outside the blocks (patch embedding, classifier). */
  layer: number;
  role: LinearRole;
  /** Block linears are what pruning methods sparsify; embeddings and heads are left dense. */
  prunable: boolean;
}

export type Init = 'normal' | 'residual' | 'zeros' | 'ones';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
}

export function linearSpecs(c: ModelConfig): LinearSpec[] {
  return c.kind === 'gpt2' ? gpt2Linears(c) : c.kind === 'llama' ? llamaLinears(c) : vitLinears(c);
}

export function paramSpecs(c: ModelConfig): ParamSpec[] {
  return c.kind === 'gpt2' ? gpt2Params(c) : c.kind === 'llama' ? llamaParams(c) : vitParams(c);
}

function linearParams(l: LinearSpec, init: Init): ParamSpec[] {
  const shape = l.layout === 'in_out' ? [l.inFeatures, l.outFeatures] : [l.outFeatures, l.inFeatures];
  const out: ParamSpec[] = [{ name: l.weight, shape, init }];
  if (l.bias) out.push({ name: l.bias, shape: [l.outFeatures], init: 'zeros' });
  return out;
}

function layerNormParams(prefix: string, d: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [d], init: 'ones' },
    { name: `${prefix}.bias`, shape: [d], init: 'zeros' },
  ];
}

/** Makes block `layer`'s prunable linears, named `${blockPrefix}${name}.weight` (and `.bias`). */
function blockLinear(c: ModelConfig, layer: number, layout: Layout) {
  const p = blockPrefix(c, layer);
  return (name: string, role: LinearRole, inFeatures: number, outFeatures: number, bias = true): LinearSpec => ({
    weight: `${p}${name}.weight`,
    bias: bias ? `${p}${name}.bias` : null,
    layout,
    inFeatures,
    outFeatures,
    layer,
    role,
    prunable: true,
  });
}

// ---- GPT-2 (GPT2LMHeadModel) ----

export const GPT2_PREFIX = 'transformer.';

function gpt2Linears(c: Gpt2Config): LinearSpec[] {
  const d = c.nEmbd;
  const out: LinearSpec[] = [];
  for (let i = 0; i < c.nLayer; i++) {
    const lin = blockLinear(c, i, 'in_out');
    out.push(
      lin('attn.c_attn', 'qkv', d, 3 * d),
      lin('attn.c_proj', 'attn_out', d, d),
      lin('mlp.c_fc', 'ffn_in', d, c.nInner),
      lin('mlp.c_proj', 'ffn_out', c.nInner, d),
    );
  }
  return out;
}

function gpt2Params(c: Gpt2Config): ParamSpec[] {
  const d = c.nEmbd;
  const out: ParamSpec[] = [
    { name: `${GPT2_PREFIX}wte.weight`, shape: [c.vocabSize, d], init: 'normal' },
    { name: `${GPT2_PREFIX}wpe.weight`, shape: [c.nPositions, d], init: 'normal' },
  ];
  const linears = gpt2Linears(c);
  for (let i = 0; i < c.nLayer; i++) {
    const p = `${GPT2_PREFIX}h.${i}`;
    const [qkv, attnOut, ffnIn, ffnOut] = linears.slice(4 * i, 4 * i + 4);
    out.push(
      ...layerNormParams(`${p}.ln_1`, d),
      ...linearParams(qkv, 'normal'),
      ...linearParams(attnOut, 'residual'),
      ...layerNormParams(`${p}.ln_2`, d),
      ...linearParams(ffnIn, 'normal'),
      ...linearParams(ffnOut, 'residual'),
    );
  }
  out.push(...layerNormParams(`${GPT2_PREFIX}ln_f`, d));
  return out;
}

// ---- The Llama family (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM) ----

export const LLAMA_PREFIX = 'model.';

/** The prefix every tensor of block `layer` starts with (ends with a dot). */
export function blockPrefix(c: ModelConfig, layer: number): string {
  if (c.kind === 'gpt2') return `${GPT2_PREFIX}h.${layer}.`;
  return c.kind === 'llama' ? `${LLAMA_PREFIX}layers.${layer}.` : `vit.encoder.layer.${layer}.`;
}

/** A language model's token embedding table [vocab, d] (the LM head when it is tied). */
export function tokenEmbeddingName(c: CausalLmConfig): string {
  return c.kind === 'gpt2' ? `${GPT2_PREFIX}wte.weight` : `${LLAMA_PREFIX}embed_tokens.weight`;
}

function llamaLinears(c: LlamaConfig): LinearSpec[] {
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const out: LinearSpec[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const lin = blockLinear(c, i, 'out_in');
    out.push(
      lin('self_attn.q_proj', 'q', d, q, c.qkvBias),
      lin('self_attn.k_proj', 'k', d, kv, c.qkvBias),
      lin('self_attn.v_proj', 'v', d, kv, c.qkvBias),
      lin('self_attn.o_proj', 'attn_out', q, d, c.outputBias),
      lin('mlp.gate_proj', 'ffn_gate', d, c.intermediateSize, c.mlpBias),
      lin('mlp.up_proj', 'ffn_in', d, c.intermediateSize, c.mlpBias),
      lin('mlp.down_proj', 'ffn_out', c.intermediateSize, d, c.mlpBias),
    );
  }
  return out;
}

function llamaParams(c: LlamaConfig): ParamSpec[] {
  const d = c.hiddenSize;
  const norm = (name: string): ParamSpec => ({ name, shape: [d], init: 'ones' });
  const out: ParamSpec[] = [{ name: `${LLAMA_PREFIX}embed_tokens.weight`, shape: [c.vocabSize, d], init: 'normal' }];
  const linears = llamaLinears(c);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `${LLAMA_PREFIX}layers.${i}`;
    const [q, k, v, o, gate, up, down] = linears.slice(7 * i, 7 * i + 7);
    out.push(
      norm(`${p}.input_layernorm.weight`),
      ...linearParams(q, 'normal'),
      ...linearParams(k, 'normal'),
      ...linearParams(v, 'normal'),
      ...linearParams(o, 'residual'),
      norm(`${p}.post_attention_layernorm.weight`),
      ...linearParams(gate, 'normal'),
      ...linearParams(up, 'normal'),
      ...linearParams(down, 'residual'),
    );
  }
  out.push(norm(`${LLAMA_PREFIX}norm.weight`));
  if (!c.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [c.vocabSize, d], init: 'normal' });
  return out;
}

// ---- ViT (ViTForImageClassification) ----

function vitLinears(c: VitConfig): LinearSpec[] {
  const d = c.hiddenSize;
  const patchIn = c.numChannels * c.patchSize * c.patchSize;
  const out: LinearSpec[] = [
    {
      // A Conv2d with kernel = stride = patch is a linear map of each flattened patch; its weight
      // [d, C, p, p] is [out, in] once the last three axes are flattened.
      weight: 'vit.embeddings.patch_embeddings.projection.weight',
      bias: 'vit.embeddings.patch_embeddings.projection.bias',
      layout: 'out_in',
      inFeatures: patchIn,
      outFeatures: d,
      layer: -1,
      role: 'patch',
      prunable: false,
    },
  ];
  for (let i = 0; i < c.numLayers; i++) {
    const lin = blockLinear(c, i, 'out_in');
    out.push(
      lin('attention.attention.query', 'q', d, d, c.qkvBias),
      lin('attention.attention.key', 'k', d, d, c.qkvBias),
      lin('attention.attention.value', 'v', d, d, c.qkvBias),
      lin('attention.output.dense', 'attn_out', d, d),
      lin('intermediate.dense', 'ffn_in', d, c.intermediateSize),
      lin('output.dense', 'ffn_out', c.intermediateSize, d),
    );
  }
  out.push({
    weight: 'classifier.weight',
    bias: 'classifier.bias',
    layout: 'out_in',
    inFeatures: d,
    outFeatures: c.labels.length,
    layer: -1,
    role: 'classifier',
    prunable: false,
  });
  return out;
}

function vitParams(c: VitConfig): ParamSpec[] {
  const d = c.hiddenSize;
  const nPatches = (c.imageSize / c.patchSize) ** 2;
  const linears = vitLinears(c);
  const patch = linears[0];
  const out: ParamSpec[] = [
    { name: 'vit.embeddings.cls_token', shape: [1, 1, d], init: 'normal' },
    { name: 'vit.embeddings.position_embeddings', shape: [1, nPatches + 1, d], init: 'normal' },
    { name: patch.weight, shape: [d, c.numChannels, c.patchSize, c.patchSize], init: 'normal' },
    { name: patch.bias!, shape: [d], init: 'zeros' },
  ];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `vit.encoder.layer.${i}`;
    const [q, k, v, o, ffnIn, ffnOut] = linears.slice(1 + 6 * i, 7 + 6 * i);
    out.push(
      ...layerNormParams(`${p}.layernorm_before`, d),
      ...linearParams(q, 'normal'),
      ...linearParams(k, 'normal'),
      ...linearParams(v, 'normal'),
      ...linearParams(o, 'residual'),
      ...layerNormParams(`${p}.layernorm_after`, d),
      ...linearParams(ffnIn, 'normal'),
      ...linearParams(ffnOut, 'residual'),
    );
  }
  out.push(...layerNormParams('vit.layernorm', d), ...linearParams(linears[linears.length - 1], 'normal'));
  return out;
}
