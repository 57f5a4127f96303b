// What the views colour by, each one call: per-weight scores of any layer, per-block sensitivity
// curves, per-head and per-FFN-neuron scores, per-block angular distances. Calibration data and
// statistics are shared with the Pruner, so looking at importance and then pruning computes them once.
import { linearSpecs } from '../model/schema';
import type { CalibrationSpec } from '../pruning/calibration';
import { magnitudeScores } from '../pruning/magnitude';
import { randomScores } from '../pruning/random';
import { meanGradientScores, taylorScores } from '../pruning/taylor';
import { resolvePruneRecipe } from '../pruning/recipe';
import { wandaScores } from '../pruning/wanda';
import { fromRows, toRows } from '../pruning/layout';
import { blockSimilarity, type BlockSimilarity } from '../pruning/structured/blocks';
import { headScores, type HeadScoreMethod } from '../pruning/structured/heads';
import { neuronScores, type NeuronScoreMethod } from '../pruning/structured/neurons';
import type { SensitivityCurve } from '../pruning/allocation';
import type { MethodId } from '../pruning/catalogue';
import { prunableLinears } from '../pruning/unstructured';
import type { Pruner, RunOptions } from './pruner';

export class Importance {
  constructor(private readonly pruner: Pruner) {}

  private get session() {
    return this.pruner.session;
  }

  /**
   * Scores of every weight of one linear layer, in the checkpoint's layout (SparseGPT's saliency
   * w²/[H⁻¹]ᵢᵢ depends on the order of its updates, so it shows Wanda's, which share its statistics).
   * Random scores are those the Pruner draws for this layer with the recipe's `seed` (default 0).
   */
  async weightScores(
    weightName: string,
    method: MethodId,
    calibration?: CalibrationSpec,
    opts: RunOptions & { seed?: number } = {},
  ): Promise<Float32Array> {
    const spec = linearSpecs(this.session.config).find((l) => l.weight === weightName);
    if (!spec) throw new Error(`no linear layer has the weight "${weightName}"`);
    const w = this.session.checkpoint.weights.get(weightName)!.data;
    const rows = toRows(w, spec);
    if (method === 'magnitude') return fromRows(magnitudeScores(rows), spec);
    // The Pruner seeds each prunable layer by its position (pruning/unstructured.ts, scoresFor).
    const index = prunableLinears(this.session.config).findIndex((l) => l.weight === weightName);
    if (method === 'random') return fromRows(randomScores(rows.length, (opts.seed ?? 0) * 1009 + index), spec);
    // The dense model's statistics: what a one-shot calibration scores by.
    const m: MethodId = method === 'sparsegpt' ? 'wanda' : method;
    const r = resolvePruneRecipe(
      { method: m, sparsity: 0, calibration, ...(m === 'wanda' ? { calibrationMode: 'one-shot' as const } : {}) },
      this.pruner.family,
    );
    const stats = await this.pruner.stats(r, await this.pruner.calibration(this.pruner.calibSpec(r)), opts);
    if (m === 'wanda')
      return fromRows(wandaScores(rows, spec.outFeatures, spec.inFeatures, stats.sqSum!.get(weightName)!), spec);
    return (m === 'taylor' ? taylorScores : meanGradientScores)(w, stats.grads!.get(weightName)!);
  }

  async sensitivityCurves(
    method: MethodId,
    calibration?: CalibrationSpec,
    opts: RunOptions = {},
  ): Promise<SensitivityCurve[]> {
    const r = { method, sparsity: 0, calibration };
    return this.pruner.sensitivity(r, await this.pruner.calibration(this.pruner.calibSpec(r)), opts);
  }

  async headScores(method: HeadScoreMethod, calibration?: CalibrationSpec, opts: RunOptions = {}): Promise<number[][]> {
    const calib = await this.pruner.calibration(this.pruner.calibSpec({ calibration }));
    return headScores(this.session.config, this.session.weights, calib, method, { signal: opts.signal });
  }

  async neuronScores(
    method: NeuronScoreMethod,
    calibration?: CalibrationSpec,
    opts: RunOptions = {},
  ): Promise<number[][]> {
    const calib = await this.pruner.calibration(this.pruner.calibSpec({ calibration }));
    return neuronScores(this.session.config, this.session.weights, calib, method, { signal: opts.signal });
  }

  /** Angular distance between every block's input and every later block's output, and Block Influence. */
  async blockDistances(calibration?: CalibrationSpec, opts: RunOptions = {}): Promise<BlockSimilarity> {
    const calib = await this.pruner.calibration(this.pruner.calibSpec({ calibration }));
    return blockSimilarity(this.session.config, this.session.weights, calib, { signal: opts.signal });
  }
}
