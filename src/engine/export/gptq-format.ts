// Quantized linears in the GPTQ checkpoint format, the one AutoGPTQ wrote first and that GPTQModel,
// transformers (through optimum and gptqmodel) and vLLM load: the tensors that replace a linear's
// weight, the `quantization_config` of config.json, and the inverse (unpack and dequantize, as a
// loader does) so an export can be checked against the engine's own values.
//
// Read from (public sources):
//   AutoGPTQ/AutoGPTQ auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py and qlinear_cuda.py: the
//     QuantLinear buffers and `pack` (the bit layout below, a Conv1D's weight transposed first, the
//     zero points stored minus one), and their torch dequantization (zeros + 1; scales[g_idx] ·
//     (code − zero)); auto_gptq/quantization/config.py (quantize_config keys, desc_act defaulting to
//     true when absent, checkpoint_format).
//   ModelCloud/GPTQModel gptqmodel/nn_modules/qlinear/__init__.py (pack_block, buffer shapes
//     ceil(in·bits/32) and ceil(out·bits/32)), gptqmodel/utils/model.py
//     (convert_gptq_v1_to_v2_format: v1 zero points are stored minus one, v2 as they are),
//     gptqmodel/utils/model_dequant.py (3-bit words, dequantization from a checkpoint),
//     gptqmodel/quantization/config.py (the keys it reads and writes: format and the older
//     checkpoint_format, pack_dtype, lm_head, meta), gptqmodel/models/loader.py (it refuses an
//     asymmetric "gptq" checkpoint unless gptqmodel ≥ 0.9.0 made it), gptqmodel/models/definitions/
//     gpt2.py and llama.py (GPT-2's four Conv1D and Llama's seven linears per block are quantized),
//     gptqmodel/nn_modules/qlinear/marlin.py (symmetric kernels ignore qzeros: the zero is 2^(bits−1)).
//   huggingface/transformers src/transformers/utils/quantization_config.py (GPTQConfig: bits in
//     {2, 3, 4, 8}, group_size −1 or > 0, 0 < damp_percent < 1, "format" with "checkpoint_format"
//     kept as its legacy alias) and src/transformers/quantizers/quantizer_gptq.py (text models only).
//   huggingface/optimum optimum/gptq/quantizer.py and constants.py (block_name_to_quantize inferred
//     from "transformer.h" / "model.layers", modules_in_block_to_quantize, Conv1D in/out taken from
//     its weight [in, out]; asymmetric models are saved as "gptq_v2", symmetric ones as "gptq").
//
// Per quantized linear P (P.weight's module), with bits b ∈ {2, 3, 4, 8} and G groups:
//   P.qweight  I32 [in·b/32, out]  the codes, packed along the input dimension: read down one output
//                                  column, the codes of inputs 0, 1, 2, … form one little-endian bit
//                                  stream, code i at bits [i·b, i·b + b) — lowest bits first, 32/b
//                                  codes a word for b = 2, 4, 8; for b = 3 every 32 codes fill three
//                                  words, codes 10 and 21 straddling a word boundary (AutoGPTQ's
//                                  10 | 1 | 10 | 1 | 10 loop is exactly this stream).
//   P.qzeros   I32 [G, out·b/32]   the zero points, packed the same way along the outputs of a group;
//                                  "gptq" (v1) stores zero − 1 in each field, "gptq_v2" the zero.
//   P.scales   F16 [G, out]        the scales.
//   P.g_idx    I32 [in]            the group of each input column (with act-order, groups follow the
//                                  visit order, so g_idx is not i / group_size).
//   P.bias                         unchanged (not written here).
// A GPT-2 Conv1D stores its weight [in, out], but its QuantLinear has nn.Linear's in/out meaning
// (AutoGPTQ transposes a Conv1D's weight before packing; loaders size the QuantLinear from the
// Conv1D weight's shape [in, out]), so both layouts pack the same [out, in] codes.
import pkg from '../../../package.json';
import { f16ToF32, f32ToF16 } from '../io/half';
import type { TensorData } from '../io/safetensors';
import type { ModelConfig } from '../model/config';
import { GPT2_PREFIX, LLAMA_PREFIX, type LinearSpec } from '../model/schema';
import type { QuantizedLinear, QuantSettings } from '../quant/types';

/** Bit widths the GPTQ format packs (and transformers' GPTQConfig accepts). */
export const GPTQ_BITS: readonly number[] = [2, 3, 4, 8];

/**
 * "gptq" (v1): zero points stored minus one — what every loader reads, but a zero point of 0 cannot
 * be stored. "gptq_v2": zero points stored as they are — GPTQModel (and transformers through it) only.
 */
export type GptqFormat = 'gptq' | 'gptq_v2';

/**
 * The format an export uses unless told otherwise: symmetric grids never have a zero point of 0, so
 * they go to v1, which every loader reads; asymmetric grids go to v2, as optimum saves them, because
 * GPTQModel refuses an asymmetric v1 checkpoint that gptqmodel did not make and v1 cannot store a 0.
 */
export function defaultGptqFormat(symmetric: boolean): GptqFormat {
  return symmetric ? 'gptq' : 'gptq_v2';
}

/** A problem with a linear or settings given to the GPTQ writer or reader; the message names the layer. */
export class GptqFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GptqFormatError';
  }
}

/**
 * One tensor of the format, shaped like a safetensors TensorEntry so the export can write it as is.
 * F16 data are float32 values already rounded to half precision: writing them as F16 is exact.
 */
export interface GptqTensor {
  name: string;
  dtype: 'I32' | 'F16';
  shape: number[];
  data: Int32Array | Float32Array;
}

export interface GptqPackOptions {
  /** Default: defaultGptqFormat(q.symmetric). Must match the config's format. */
  format?: GptqFormat;
  /**
   * The settings the config will declare. Given, the linear is checked against what loaders assume
   * from them: same bits and symmetry, ceil(in / group_size) groups, and without act-order
   * g_idx[i] = floor(i / group_size) (kernels then ignore g_idx and take contiguous groups).
   */
  settings?: QuantSettings;
}

/** The module path of a linear: its weight's name without ".weight". */
export function gptqModuleName(spec: Pick<LinearSpec, 'weight'>): string {
  return spec.weight.endsWith('.weight') ? spec.weight.slice(0, -'.weight'.length) : spec.weight;
}

/** The zero point symmetric kernels assume whatever qzeros says (Marlin's uint4b8 / uint8b128). */
export function symmetricZero(bits: number): number {
  return 2 ** (bits - 1);
}

/**
 * Packs value `i` of a stream at bit i·bits of consecutive 32-bit words, word w at
 * out[w·stride + base]: down a column of qweight (stride out, base the column), along a row of
 * qzeros (stride 1, base the row's first word).
 */
function packStream(out: Int32Array, stride: number, base: number, i: number, bits: number, value: number): void {
  const bit = i * bits;
  const word = bit >>> 5;
  const offset = bit & 31;
  // `<<` keeps the low 32 bits, as AutoGPTQ's uint32 words do; the rest goes to the next word.
  out[word * stride + base] |= value << offset;
  if (offset + bits > 32) out[(word + 1) * stride + base] |= value >>> (32 - offset);
}

function unpackStream(data: Int32Array, stride: number, base: number, i: number, bits: number): number {
  const bit = i * bits;
  const word = bit >>> 5;
  const offset = bit & 31;
  let v = data[word * stride + base] >>> offset;
  if (offset + bits > 32) v |= data[(word + 1) * stride + base] << (32 - offset);
  return v & ((1 << bits) - 1);
}

function checkBits(layer: string, bits: number): void {
  if (!GPTQ_BITS.includes(bits)) {
    throw new GptqFormatError(`${layer}: GPTQ packs 2, 3, 4 or 8 bits, got ${bits}`);
  }
}

function checkPacking(layer: string, inFeatures: number, outFeatures: number, bits: number): void {
  checkBits(layer, bits);
  for (const [what, n] of [
    ['in', inFeatures],
    ['out', outFeatures],
  ] as const) {
    if (!Number.isSafeInteger(n) || n <= 0 || (n * bits) % 32 !== 0) {
      throw new GptqFormatError(
        `${layer}: ${what}_features ${n} × ${bits} bits is not a whole number of 32-bit words, so it cannot be packed (qweight packs ${bits === 3 ? 32 : 32 / bits} input codes per ${bits === 3 ? '3 words' : 'word'}, qzeros as many outputs)`,
      );
    }
  }
}

/**
 * The four tensors that replace `spec.weight` (in this order: qweight, qzeros, scales, g_idx),
 * named after spec.weight's module. `q` is the engine's quantized linear ([out, in] codes whatever
 * spec.layout says). Throws GptqFormatError, naming the layer, when the linear cannot be written
 * faithfully: bits not 2, 3, 4 or 8; in·bits or out·bits not a multiple of 32; arrays of the wrong
 * length; a code or zero point off the grid; a pruned weight whose code is not its zero point (a
 * loader would give it a nonzero value); a symmetric zero point other than 2^(bits−1) (symmetric
 * kernels assume it); a zero point of 0 in the "gptq" format; a scale that half precision cannot hold.
 */
export function gptqTensors(spec: LinearSpec, q: QuantizedLinear, options: GptqPackOptions = {}): GptqTensor[] {
  const layer = gptqModuleName(spec);
  const { inFeatures: nIn, outFeatures: nOut } = spec;
  const { bits, groups } = q;
  const format = options.format ?? defaultGptqFormat(q.symmetric);
  checkPacking(layer, nIn, nOut, bits);
  checkLinear(layer, spec, q);
  if (options.settings) checkSettings(layer, nIn, q, options.settings);
  const maxq = 2 ** bits - 1;

  const qweight = new Int32Array(((nIn * bits) / 32) * nOut);
  for (let o = 0; o < nOut; o++) {
    const row = o * nIn;
    for (let i = 0; i < nIn; i++) {
      const code = q.codes[row + i];
      if (code > maxq)
        throw new GptqFormatError(`${layer}: code ${code} at [${o}, ${i}] exceeds ${maxq} (${bits} bits)`);
      const zero = q.zeros[o * groups + q.groupIndex[i]];
      if (q.mask[row + i] === 0 && code !== zero) {
        throw new GptqFormatError(
          `${layer}: pruned weight [${o}, ${i}] has code ${code}, not its zero point ${zero}; a loader would give it the value scale · ${code - zero}`,
        );
      }
      packStream(qweight, nOut, o, i, bits, code);
    }
  }

  const zeroCols = (nOut * bits) / 32;
  const qzeros = new Int32Array(groups * zeroCols);
  const scales = new Float32Array(groups * nOut);
  for (let o = 0; o < nOut; o++) {
    for (let g = 0; g < groups; g++) {
      const zero = q.zeros[o * groups + g];
      const at = `${layer}: row ${o}, group ${g}`;
      if (!Number.isInteger(zero) || zero < 0 || zero > maxq) {
        throw new GptqFormatError(`${at}: zero point ${zero} is not a code 0 … ${maxq}`);
      }
      if (q.symmetric && zero !== symmetricZero(bits)) {
        throw new GptqFormatError(
          `${at}: symmetric zero point ${zero} is not ${symmetricZero(bits)}, which symmetric kernels (Marlin) assume whatever qzeros says`,
        );
      }
      if (format === 'gptq' && zero === 0) {
        throw new GptqFormatError(
          `${at}: zero point 0 cannot be stored in the "gptq" format (it stores zero − 1); use "gptq_v2"`,
        );
      }
      packStream(qzeros, 1, g * zeroCols, o, bits, format === 'gptq' ? zero - 1 : zero);
      const scale = f16ToF32(f32ToF16(q.scales[o * groups + g]));
      if (!Number.isFinite(scale)) {
        throw new GptqFormatError(`${at}: scale ${q.scales[o * groups + g]} is not finite in half precision`);
      }
      scales[g * nOut + o] = scale;
    }
  }

  return [
    { name: `${layer}.qweight`, dtype: 'I32', shape: [(nIn * bits) / 32, nOut], data: qweight },
    { name: `${layer}.qzeros`, dtype: 'I32', shape: [groups, zeroCols], data: qzeros },
    { name: `${layer}.scales`, dtype: 'F16', shape: [groups, nOut], data: scales },
    { name: `${layer}.g_idx`, dtype: 'I32', shape: [nIn], data: Int32Array.from(q.groupIndex) },
  ];
}

function checkLinear(layer: string, spec: LinearSpec, q: QuantizedLinear): void {
  const { inFeatures: nIn, outFeatures: nOut } = spec;
  const { groups } = q;
  if (!Number.isSafeInteger(groups) || groups < 1) throw new GptqFormatError(`${layer}: ${groups} groups`);
  const lengths: [string, { length: number }, number][] = [
    ['codes', q.codes, nOut * nIn],
    ['mask', q.mask, nOut * nIn],
    ['scales', q.scales, nOut * groups],
    ['zeros', q.zeros, nOut * groups],
    ['groupIndex', q.groupIndex, nIn],
  ];
  for (const [what, a, n] of lengths) {
    if (a.length !== n) {
      throw new GptqFormatError(
        `${layer}: ${what} has ${a.length} values, expected ${n} (out ${nOut}, in ${nIn}, ${groups} groups)`,
      );
    }
  }
  for (let i = 0; i < nIn; i++) {
    const g = q.groupIndex[i];
    if (!(g >= 0 && g < groups))
      throw new GptqFormatError(`${layer}: g_idx[${i}] = ${g} is not a group 0 … ${groups - 1}`);
  }
}

function checkSettings(layer: string, nIn: number, q: QuantizedLinear, s: QuantSettings): void {
  if (s.bits !== q.bits || s.symmetric !== q.symmetric) {
    throw new GptqFormatError(
      `${layer}: quantized with ${q.bits} bits, ${q.symmetric ? 'symmetric' : 'asymmetric'}; the config declares ${s.bits} bits, ${s.symmetric ? 'symmetric' : 'asymmetric'}`,
    );
  }
  const size = s.groupSize > 0 ? s.groupSize : nIn;
  const groups = Math.ceil(nIn / size);
  if (q.groups !== groups) {
    throw new GptqFormatError(
      `${layer}: ${q.groups} groups, but loaders allocate ceil(${nIn} / ${size}) = ${groups} for group_size ${s.groupSize > 0 ? s.groupSize : -1}`,
    );
  }
  if (!s.actOrder) {
    for (let i = 0; i < nIn; i++) {
      if (q.groupIndex[i] !== Math.floor(i / size)) {
        throw new GptqFormatError(
          `${layer}: g_idx[${i}] = ${q.groupIndex[i]}, not ${Math.floor(i / size)}: without desc_act kernels take contiguous groups of ${size} columns and ignore g_idx`,
        );
      }
    }
  }
}

/** A linear read back from the format, in the engine's layout. */
export interface UnpackedGptq {
  /** Codes, [out, in]. */
  codes: Uint8Array;
  /** Zero points as a loader takes them (v1: field + 1, so an all-ones field reads 2^bits), [out, groups]. */
  zeros: Float32Array;
  /** Scales (half-precision values), [out, groups]. */
  scales: Float32Array;
  groupIndex: Int32Array;
  groups: number;
  /**
   * The dequantized weights, [out, in]: scales[g_idx[i]] · (code − zero), computed exactly (an f16
   * scale times a small integer fits float32); a loader computing in f16 rounds this once more.
   */
  weights: Float32Array;
}

/** The tensors a linear's module holds, by full name (a readSafetensors map, or gptqTensors' list keyed by name). */
export type GptqTensorSource = ReadonlyMap<string, { data: TensorData }>;

/**
 * Reads a linear back from its four tensors the way AutoGPTQ's and GPTQModel's torch kernels do:
 * unpack the codes and zero points (v1: + 1), then scales[g_idx] · (code − zero). Throws
 * GptqFormatError, naming the layer, when a tensor is missing or not of the expected size.
 */
export function unpackGptq(
  spec: Pick<LinearSpec, 'weight' | 'inFeatures' | 'outFeatures'>,
  tensors: GptqTensorSource,
  options: { bits: number; format: GptqFormat },
): UnpackedGptq {
  const layer = gptqModuleName(spec);
  const { inFeatures: nIn, outFeatures: nOut } = spec;
  const { bits, format } = options;
  checkPacking(layer, nIn, nOut, bits);
  const get = <T extends TensorData>(suffix: string, type: new (n: number) => T, what: string): T => {
    const data = tensors.get(`${layer}.${suffix}`)?.data;
    if (!data) throw new GptqFormatError(`${layer}: no ${layer}.${suffix}`);
    if (!(data instanceof type)) throw new GptqFormatError(`${layer}.${suffix}: expected ${what} values`);
    return data;
  };
  const qweight = get('qweight', Int32Array, 'int32');
  const qzeros = get('qzeros', Int32Array, 'int32');
  const scalesG = get('scales', Float32Array, 'float');
  const gIdx = get('g_idx', Int32Array, 'int32');
  const groups = scalesG.length / nOut;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new GptqFormatError(`${layer}.scales: ${scalesG.length} values, not a whole number of rows of ${nOut}`);
  }
  const zeroCols = (nOut * bits) / 32;
  const expect: [string, number, number][] = [
    ['qweight', qweight.length, ((nIn * bits) / 32) * nOut],
    ['qzeros', qzeros.length, groups * zeroCols],
    ['g_idx', gIdx.length, nIn],
  ];
  for (const [what, got, want] of expect) {
    if (got !== want) throw new GptqFormatError(`${layer}.${what}: ${got} values, expected ${want}`);
  }
  for (let i = 0; i < nIn; i++) {
    if (!(gIdx[i] >= 0 && gIdx[i] < groups)) {
      throw new GptqFormatError(`${layer}.g_idx: g_idx[${i}] = ${gIdx[i]} is not a group 0 … ${groups - 1}`);
    }
  }

  const zeros = new Float32Array(nOut * groups);
  const scales = new Float32Array(nOut * groups);
  for (let g = 0; g < groups; g++) {
    for (let o = 0; o < nOut; o++) {
      const field = unpackStream(qzeros, 1, g * zeroCols, o, bits);
      zeros[o * groups + g] = format === 'gptq' ? field + 1 : field;
      scales[o * groups + g] = scalesG[g * nOut + o];
    }
  }
  const codes = new Uint8Array(nOut * nIn);
  const weights = new Float32Array(nOut * nIn);
  for (let o = 0; o < nOut; o++) {
    for (let i = 0; i < nIn; i++) {
      const code = unpackStream(qweight, nOut, o, i, bits);
      const k = o * groups + gIdx[i];
      codes[o * nIn + i] = code;
      weights[o * nIn + i] = scales[k] * (code - zeros[k]);
    }
  }
  return { codes, zeros, scales, groupIndex: Int32Array.from(gIdx), groups, weights };
}

/** [out, in] weights as the checkpoint stores the linear's weight: [in, out] for a GPT-2 Conv1D. */
export function toStoredLayout(spec: Pick<LinearSpec, 'layout' | 'inFeatures' | 'outFeatures'>, w: Float32Array) {
  if (spec.layout === 'out_in') return w;
  const { inFeatures: nIn, outFeatures: nOut } = spec;
  const out = new Float32Array(w.length);
  for (let o = 0; o < nOut; o++) for (let i = 0; i < nIn; i++) out[i * nOut + o] = w[o * nIn + i];
  return out;
}

/** The transformer blocks the loaders quantize: optimum's block_name_to_quantize, GPTQModel's layers_node. */
export function gptqBlockName(config: ModelConfig): string {
  if (config.kind === 'gpt2') return `${GPT2_PREFIX}h`;
  if (config.kind === 'llama') return `${LLAMA_PREFIX}layers`;
  throw new GptqFormatError(
    'ViT: no GPTQ loader takes a vision model (transformers quantizes text models only; GPTQModel has no ViT definition)',
  );
}

/** config.json's `quantization_config` for a GPTQ checkpoint. */
export interface GptqQuantizationConfig {
  quant_method: 'gptq';
  bits: number;
  /** −1: one group per output row (per channel). */
  group_size: number;
  desc_act: boolean;
  sym: boolean;
  damp_percent: number;
  true_sequential: boolean;
  /** Groups follow the act-order (g_idx a permutation's), not fixed before it. */
  static_groups: false;
  /** The current name, read by transformers, optimum and GPTQModel today… */
  format: GptqFormat;
  /** …and its older name, read by earlier transformers and optimum, AutoGPTQ and GPTQModel's dequantizer. */
  checkpoint_format: GptqFormat;
  pack_dtype: 'int32';
  /** The LM head stays in floating point. */
  lm_head: false;
  block_name_to_quantize?: string;
  modules_in_block_to_quantize?: string[][];
  meta: { quantizer: string[] };
}

export interface GptqConfigOptions {
  /**
   * Default: defaultGptqFormat(settings.symmetric). Must be the format the tensors were packed in.
   * "gptq" with an asymmetric grid loads through transformers / optimum, AutoGPTQ and vLLM, but
   * GPTQModel's own loader refuses it (it trusts asymmetric v1 only from gptqmodel ≥ 0.9.0).
   */
  format?: GptqFormat;
  /** The damping used, as a fraction of the Hessian's mean diagonal. Default 0.01 (the engine's). */
  dampPercent?: number;
  /**
   * Whether each linear of a block saw inputs from the block's already quantized linears (true) or
   * all of them inputs from one pass over the block's input (false, the default). Recorded for the
   * reader only: no loader reads it.
   */
  trueSequential?: boolean;
  /** Written when given; optimum infers it otherwise ("transformer.h", "model.layers"). See gptqBlockName. */
  blockNameToQuantize?: string;
  /**
   * Written when given: the linears quantized in every block, relative to the block (e.g.
   * [["attn.c_attn"], ["attn.c_proj"]]). Without it optimum converts every linear of every block, so
   * all of them must be exported quantized.
   */
  modulesInBlockToQuantize?: string[][];
}

/** config.json's quantization_config for linears quantized with `settings`. */
export function gptqQuantizationConfig(
  settings: QuantSettings,
  options: GptqConfigOptions = {},
): GptqQuantizationConfig {
  const { bits, groupSize, symmetric, actOrder } = settings;
  checkBits('quantization_config', bits);
  if (!Number.isSafeInteger(groupSize) || groupSize < 0) {
    throw new GptqFormatError(
      `quantization_config: group size ${groupSize} is not 0 (per channel) or a positive integer`,
    );
  }
  const damp = options.dampPercent ?? 0.01;
  if (!(damp > 0 && damp < 1)) {
    throw new GptqFormatError(`quantization_config: damp_percent ${damp} must lie strictly between 0 and 1`);
  }
  const format = options.format ?? defaultGptqFormat(symmetric);
  return {
    quant_method: 'gptq',
    bits,
    group_size: groupSize > 0 ? groupSize : -1,
    desc_act: actOrder,
    sym: symmetric,
    damp_percent: damp,
    true_sequential: options.trueSequential ?? false,
    static_groups: false,
    format,
    checkpoint_format: format,
    pack_dtype: 'int32',
    lm_head: false,
    ...(options.blockNameToQuantize ? { block_name_to_quantize: options.blockNameToQuantize } : {}),
    ...(options.modulesInBlockToQuantize
      ? { modules_in_block_to_quantize: options.modulesInBlockToQuantize.map((g) => [...g]) }
      : {}),
    meta: { quantizer: [`${pkg.name}:${pkg.version}`] },
  };
}
