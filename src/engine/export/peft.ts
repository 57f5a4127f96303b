// LoRA adapters as PEFT saves them (`PeftModel.save_pretrained`): adapter_config.json (a LoraConfig)
// and adapter_model.safetensors, which `PeftModel.from_pretrained(base, dir)` loads onto the base
// checkpoint. Tensor names are the module's path in the transformers model, under PEFT's two
// wrappers (PeftModel → LoraModel, hence "base_model.model."), with the adapter's name stripped:
// `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r]. PEFT makes both
// nn.Linear layers whatever the base layer, so GPT-2's Conv1D (weight stored [in, out]) gets the
// same shapes; `fan_in_fan_out: true` tells PEFT to transpose B·A when it merges into that weight.
//
// PEFT adds (alpha / r)·B·A to the weight it loads. Recovery trains the merged weight masked where
// the recipe pruned weight by weight (recovery/lora.ts), so on such a linear PEFT's unmerged sum
// differs at the pruned positions; the merged checkpoint is the exact one, the adapter the
// portable one (a dense base, or a structured recipe's base, takes it exactly).
import type { HostTensor } from '../model/checkpoint';
import { WEIGHT_FILE_METADATA } from '../model/checkpoint';
import { isCausalLm, type ModelConfig } from '../model/config';
import { linearSpecs } from '../model/schema';
import type { LoraAdapters } from '../recovery/lora';
import { type TensorEntry, writeSafetensors } from '../io/safetensors';

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';

/** The fields of peft's LoraConfig that say how the adapter was built and where it goes. */
export interface PeftLoraConfig {
  peft_type: 'LORA';
  /** CAUSAL_LM for a language model; null for an image classifier (PEFT has no task type for it). */
  task_type: 'CAUSAL_LM' | null;
  r: number;
  lora_alpha: number;
  /** Full module paths, which PEFT matches exactly (a suffix such as "c_proj" would catch both GPT-2 projections). */
  target_modules: string[];
  lora_dropout: number;
  bias: 'none';
  fan_in_fan_out: boolean;
  base_model_name_or_path: string | null;
  inference_mode: boolean;
  init_lora_weights: boolean;
  use_rslora: boolean;
  use_dora: boolean;
  modules_to_save: null;
  revision: null;
}

/** The module path of a linear's weight tensor ("transformer.h.0.attn.c_attn.weight" → "transformer.h.0.attn.c_attn"). */
const modulePath = (weight: string) => weight.replace(/\.weight$/, '');

export function peftLoraConfig(
  config: ModelConfig,
  adapters: Pick<LoraAdapters<unknown>, 'rank' | 'alpha' | 'layers'>,
  baseModel: string | null,
): PeftLoraConfig {
  const specs = linearSpecs(config).filter((s) => adapters.layers.has(s.weight));
  if (specs.length !== adapters.layers.size) {
    const known = new Set(specs.map((s) => s.weight));
    const stray = [...adapters.layers.keys()].find((n) => !known.has(n));
    throw new Error(`PEFT export: "${stray}" is not a linear layer of this model`);
  }
  if (specs.length === 0) throw new Error('PEFT export: no adapters');
  const layouts = new Set(specs.map((s) => s.layout));
  if (layouts.size > 1) throw new Error('PEFT export: one adapter config cannot mix Conv1D and nn.Linear layers');
  return {
    peft_type: 'LORA',
    task_type: isCausalLm(config) ? 'CAUSAL_LM' : null,
    r: adapters.rank,
    lora_alpha: adapters.alpha,
    target_modules: specs.map((s) => modulePath(s.weight)),
    lora_dropout: 0,
    bias: 'none',
    fan_in_fan_out: specs[0].layout === 'in_out',
    base_model_name_or_path: baseModel,
    inference_mode: true,
    init_lora_weights: true,
    use_rslora: false,
    use_dora: false,
    modules_to_save: null,
    revision: null,
  };
}

/**
 * adapter_config.json and adapter_model.safetensors for `adapters` on `config`'s model;
 * `baseModel` is the base checkpoint's hub id or path (null when it has none).
 */
export function exportPeftAdapter(
  config: ModelConfig,
  adapters: LoraAdapters<HostTensor>,
  baseModel: string | null,
): Map<string, Uint8Array> {
  const peftConfig = peftLoraConfig(config, adapters, baseModel);
  const tensors = new Map<string, TensorEntry>();
  for (const spec of linearSpecs(config)) {
    const pair = adapters.layers.get(spec.weight);
    if (!pair) continue;
    const expect = (t: HostTensor, shape: number[], what: string) => {
      if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1])
        throw new Error(`PEFT export: ${what} of ${spec.weight} is [${t.shape}], expected [${shape}]`);
      return { dtype: 'F32' as const, shape, data: t.data };
    };
    const prefix = `base_model.model.${modulePath(spec.weight)}`;
    tensors.set(`${prefix}.lora_A.weight`, expect(pair.a, [adapters.rank, spec.inFeatures], 'lora_A'));
    tensors.set(`${prefix}.lora_B.weight`, expect(pair.b, [spec.outFeatures, adapters.rank], 'lora_B'));
  }
  return new Map([
    [PEFT_CONFIG_FILE, new TextEncoder().encode(`${JSON.stringify(peftConfig, null, 2)}\n`)],
    [PEFT_WEIGHTS_FILE, writeSafetensors(tensors, WEIGHT_FILE_METADATA)],
  ]);
}
