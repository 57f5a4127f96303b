// One structured pruning step as a recipe — what to remove, by which score, how much — turned into
// the masks the forward pass applies (heads, neurons, sublayers) or the per-block token keep ratios.
import { numLayers, type ModelConfig } from '../../model/config';
import type { StructuredRecipe } from '../recipe';

export type { StructuredRecipe };
import type { ModelMasks, Weights } from '../../model/types';
import type { CalibrationData } from '../calibration';
import { blockSimilarity, blocksToRemove, type BlockMethod } from './blocks';
import { headMaskFromScores, headScores, type HeadScoreMethod } from './heads';
import { neuronMaskFromScores, neuronScores, type NeuronScoreMethod } from './neurons';
import { normalizePerLayer } from './select';
import { finerCut } from './sublayers';
import { defaultTokenScoring, type TokenScoring, tokenKeepFrom } from '../../model/tokens';

export interface StructuredPlan {
  masks: ModelMasks;
  /** Token pruning: per-block keep ratios and how tokens are ranked (ForwardOptions). */
  tokenKeep?: number[];
  tokenScoring?: TokenScoring;
  /** What was removed, in words, for reports. */
  summary: string;
}

export async function planStructured(
  config: ModelConfig,
  weights: Weights,
  calib: CalibrationData | null,
  r: StructuredRecipe,
  opts: { signal?: AbortSignal; onProgress?: (f: number) => void } = {},
): Promise<StructuredPlan> {
  if (!(r.amount >= 0 && r.amount < 1)) throw new Error(`amount must be in [0, 1), got ${r.amount}`);
  const layers = numLayers(config);
  if (r.granularity === 'tokens') {
    const keep = 1 - r.amount;
    const from = r.tokenFrom ?? 1;
    const tokenScoring = (r.score ?? defaultTokenScoring(config)) as TokenScoring;
    return {
      masks: {},
      tokenKeep: tokenKeepFrom(layers, from, keep),
      tokenScoring,
      summary: `keep ${(100 * keep).toFixed(0)}% of tokens at each block from block ${from}, ranked by ${tokenScoring}`,
    };
  }
  if (!calib) throw new Error(`${r.granularity} pruning needs calibration data`);
  const scope = r.scope ?? 'layer';
  const so = { signal: opts.signal, onProgress: opts.onProgress };
  switch (r.granularity) {
    case 'heads': {
      const method = (r.score ?? 'norm') as HeadScoreMethod;
      let s = await headScores(config, weights, calib, method, so);
      if (scope === 'global') s = normalizePerLayer(s);
      const heads = headMaskFromScores(s, { ratio: r.amount }, scope);
      const removed = heads.flat().filter((v) => v === 0).length;
      return {
        masks: { heads },
        summary: `${removed} of ${heads.flat().length} heads removed by ${method} (${scope})`,
      };
    }
    case 'neurons': {
      const method = (r.score ?? 'activation') as NeuronScoreMethod;
      let s = await neuronScores(config, weights, calib, method, so);
      if (scope === 'global') s = normalizePerLayer(s);
      const neurons = neuronMaskFromScores(s, { ratio: r.amount }, scope);
      const removed = neurons.flat().filter((v) => v === 0).length;
      return {
        masks: { neurons },
        summary: `${removed} of ${neurons.flat().length} FFN neurons removed by ${method} (${scope})`,
      };
    }
    case 'blocks': {
      const method = (r.score ?? 'angular-window') as BlockMethod;
      const k = Math.round(r.amount * layers);
      const sim = await blockSimilarity(config, weights, calib, so);
      const b = blocksToRemove(sim, k, method);
      return {
        masks: { attention: b.attention, mlp: b.mlp },
        summary: `blocks ${b.removed.join(', ') || 'none'} removed by ${method}`,
      };
    }
    case 'sublayers': {
      const count = Math.round(r.amount * 2 * layers);
      const fc = await finerCut(config, weights, calib, {
        count,
        signal: opts.signal,
        onProgress: (f) => opts.onProgress?.(f),
      });
      const names = fc.order.map((s) => `${s.kind} ${s.layer}`).join(', ');
      return {
        masks: { attention: fc.attention, mlp: fc.mlp },
        summary: `sublayers removed by FinerCut, in order: ${names || 'none'}`,
      };
    }
  }
}
