// A pruned and quantized export repacked in the GPTQ checkpoint format, for loaders that run the
// quantized weights as they are (transformers with optimum or GPTQModel, vLLM): each quantized
// linear's `weight` becomes `qweight`, `qzeros`, `scales` and `g_idx` (gptq-format.ts) in the same
// weight file, config.json gains `quantization_config`, and quantize_config.json (which AutoGPTQ
// and GPTQModel read first) says the same. The masks, recipe.json and the copied files stay. Pruned
// weights are exact zeros there too: their code is their group's zero point.
import type { ModelConfig } from '../model/config';
import { WEIGHT_FILE_METADATA } from '../model/checkpoint';
import { prunableLinears } from '../pruning/unstructured';
import { PAPERS } from '../pruning/catalogue';
import type { QuantizedLinear, QuantSettings } from '../quant/types';
import { readSafetensorsFile, tensorByteSize, writeSafetensors, type TensorEntry } from '../io/safetensors';
import { INDEX_FILE, parseShardIndex, writeShardIndex } from '../io/shard-index';
import { CONFIG_FILE, ExportError, RECIPE_FILE } from './checkpoint-export';
import { defaultGptqFormat, gptqBlockName, gptqQuantizationConfig, gptqTensors } from './gptq-format';

export const QUANTIZE_CONFIG_FILE = 'quantize_config.json';

/** The packed layouts an export can be written in besides the dequantized weights. */
export const PACKED_FORMATS = [
  {
    id: 'gptq',
    label: 'GPTQ',
    summary: 'qweight, qzeros, scales and g_idx per block linear, with quantization_config in config.json.',
    paper: PAPERS.frantar2023gptq,
    implements:
      'AutoGPTQ’s packing (int32 words along the input, zero points stored − 1 in "gptq" for a symmetric grid, "gptq_v2" otherwise), read by transformers with optimum or GPTQModel',
  },
] as const;
export type PackedFormat = (typeof PACKED_FORMATS)[number]['id'];

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
const parse = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;

/**
 * The files of exportCheckpoint(...) with every prunable linear packed. `quantized` must hold every
 * one of them (loaders convert every linear of every block). Weight files are matched by the name
 * each weight has in its file, which may drop the canonical "transformer." prefix.
 */
export function packGptqCheckpoint(
  files: Map<string, Uint8Array>,
  config: ModelConfig,
  quantized: ReadonlyMap<string, QuantizedLinear>,
  settings: QuantSettings,
): Map<string, Uint8Array> {
  const format = defaultGptqFormat(settings.symmetric);
  const specs = prunableLinears(config);
  const missing = specs.filter((s) => !quantized.has(s.weight));
  if (missing.length)
    throw new ExportError(
      `the GPTQ format needs every block linear quantized; ${missing.length} are not (${missing[0].weight}, …)`,
    );
  const blockName = gptqBlockName(config);
  const weightFiles = [...files.keys()].filter((f) => f.endsWith('.safetensors') && f !== 'masks.safetensors');
  const out = new Map(files);
  const index = files.has(INDEX_FILE) ? parseShardIndex(parse(files.get(INDEX_FILE)!)) : null;
  const packed = new Set<string>();
  // The index's total_size: the tensor bytes of every weight file as written.
  let totalSize = 0;
  for (const file of weightFiles) {
    const read = readSafetensorsFile(files.get(file)!, file);
    const tensors = new Map<string, TensorEntry>();
    for (const [name, entry] of read.tensors) {
      const spec = specs.find((s) => s.weight === name || s.weight.endsWith(`.${name}`));
      if (!spec) {
        tensors.set(name, entry);
        continue;
      }
      const prefix = name.slice(0, name.length - 'weight'.length);
      for (const t of gptqTensors(spec, quantized.get(spec.weight)!, { format, settings })) {
        const key = prefix + t.name.slice(t.name.lastIndexOf('.') + 1);
        tensors.set(key, { dtype: t.dtype, shape: t.shape, data: t.data });
        index?.weightMap.set(key, file);
      }
      index?.weightMap.delete(name);
      packed.add(spec.weight);
    }
    for (const e of tensors.values()) totalSize += tensorByteSize(e.dtype, e.shape);
    out.set(file, writeSafetensors(tensors, WEIGHT_FILE_METADATA));
  }
  if (packed.size !== specs.length)
    throw new ExportError(`the weight files hold ${packed.size} of the ${specs.length} block linears to pack`);
  if (index) out.set(INDEX_FILE, writeShardIndex(index.weightMap, totalSize));
  const q = gptqQuantizationConfig(settings, { format, blockNameToQuantize: blockName });
  const cfg = parse(files.get(CONFIG_FILE)!);
  cfg.quantization_config = q;
  // GPTQ loaders compute in float16; a float32 source stays float32 on disk for the other tensors.
  out.set(CONFIG_FILE, json(cfg));
  out.set(QUANTIZE_CONFIG_FILE, json(q));
  const recipe = parse(files.get(RECIPE_FILE)!);
  recipe.notes = [
    ...((recipe.notes as string[]) ?? []),
    `the block linears are packed in the GPTQ format (${format}, ${settings.bits} bits, ${settings.groupSize > 0 ? `groups of ${settings.groupSize}` : 'per channel'}): qweight, qzeros, scales and g_idx in place of weight; load with transformers and optimum/GPTQModel`,
  ];
  out.set(RECIPE_FILE, json(recipe));
  return out;
}
