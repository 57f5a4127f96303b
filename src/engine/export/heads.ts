// Physical removal for exports, on top of pruning/structured/physical.ts: cutUnits, and the
// HeadRemover that exportCheckpoint calls when GPT-2 or ViT heads are to be cut out (config
// "pruned_heads") instead of zeroed.
//
// Opt-in, because only transformers 4.x reads "pruned_heads" (it calls prune_heads while building
// the model, before the weights are loaded); transformers 5 dropped head pruning (PR #41417) and
// would reject the smaller q/k/v/output matrices. Zeroed heads load everywhere and compute the same.
import type { HostTensor } from '../model/checkpoint';
import { numHeads, numLayers, type ModelConfig } from '../model/config';
import { paramSpecs } from '../model/schema';
import { physicallyPrune, type StructuralMasks } from '../pruning/structured/physical';
import type { HeadRemover } from './checkpoint-export';

/**
 * Cuts the units the masks remove out of whichever block tensors the map holds (all weights, or only
 * the masks of the weight matrices); tensors it does not concern come back unchanged.
 */
export function cutUnits(
  config: ModelConfig,
  tensors: Map<string, HostTensor>,
  masks: StructuralMasks,
): Map<string, HostTensor> {
  // physicallyPrune reads every block linear's weight and bias: stand in zeros for those not given.
  const full = new Map<string, HostTensor>(tensors);
  for (const p of paramSpecs(config)) {
    if (!full.has(p.name))
      full.set(p.name, { shape: p.shape, data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)) });
  }
  const cut = physicallyPrune(config, full, masks).weights;
  return new Map([...tensors.keys()].map((name) => [name, cut.get(name)!]));
}

/** Slices the given heads out (config "pruned_heads"). */
export const physicalHeadRemover: HeadRemover = (config, tensors, prunedHeads) => {
  const h = numHeads(config);
  const heads = Array.from({ length: numLayers(config) }, (_, l) =>
    Array.from({ length: h }, (_, i) => (prunedHeads[l]?.includes(i) ? 0 : 1)),
  );
  return cutUnits(config, tensors, { heads });
};
