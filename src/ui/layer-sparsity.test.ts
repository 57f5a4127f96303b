// Per-block sparsity: when free values apply (the catalogue's refusal), what the sliders show, a
// link's values on another model, the measured facts in words, and the map's answers in the store.
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineClient, ModelSummary, PrunedShares, WorkbenchRecipe, WorkbenchReport } from '../workers/client';
import { perBlockRefusal } from './choices';
import {
  blockFacts,
  freeLayerSparsity,
  layerSparsityMismatch,
  outliersText,
  reachedText,
  searchText,
  shownLayerSparsity,
  unlockedValues,
} from './layer-sparsity';
import { defaultShareState } from './share';
import { amountOf, type LoadedModel, recipeOf } from './store';
import { disposeTestStores, flush as tick, manualJob, testStore } from './test-store';

afterEach(disposeTestStores);

const free = { ...defaultShareState(), sparsity: 0.2, layerSparsity: [0.8, 0, 0.4, 0] };

describe('per-layer sparsity rules', () => {
  it('free values apply to unstructured per-layer or per-row pruning only, each refusal with its reason', () => {
    expect(freeLayerSparsity(free)).toEqual([0.8, 0, 0.4, 0]);
    expect(freeLayerSparsity({ ...free, layerSparsity: null })).toBeNull();
    for (const [patch, reason] of [
      [{ granularity: 'nm' }, /“2:4 \(N:M\)” keeps N of every M weights in every block/],
      [{ granularity: 'heads' }, /per-block sparsity applies to weight pruning; “Attention heads” removes the heads/],
      [{ scope: 'global' }, /a “global” scope sets one threshold for all blocks; per-block sparsity does not apply/],
    ] as const) {
      expect(perBlockRefusal({ ...free, ...patch }, 'image-classifier')).toMatch(reason);
      expect(freeLayerSparsity({ ...free, ...patch })).toBeNull();
    }
    expect(perBlockRefusal(free, 'image-classifier')).toBeNull();
    expect(perBlockRefusal({ ...free, method: 'wanda', scope: 'row' }, 'causal-lm')).toBeNull();
  });

  it('the recipe carries free values as the per-block split; its sparsity is their mean; locked, none', () => {
    const r = recipeOf(free, 'image-classifier');
    expect(r.kind === 'unstructured' && r.recipe.blockSparsity).toEqual([0.8, 0, 0.4, 0]);
    expect(r.kind === 'unstructured' && r.recipe.sparsity).toBeCloseTo(0.3, 12);
    expect(amountOf(free)).toBeCloseTo(0.3, 12);
    const locked = recipeOf({ ...free, layerSparsity: null }, 'image-classifier');
    expect(locked.kind === 'unstructured' && 'blockSparsity' in locked.recipe).toBe(false);
    const global = recipeOf({ ...free, scope: 'global' }, 'image-classifier');
    expect(global.kind === 'unstructured' && 'blockSparsity' in global.recipe).toBe(false);
    // All blocks at 0 is the dense model, whatever the global slider says.
    expect(amountOf({ ...free, layerSparsity: [0, 0, 0, 0] })).toBe(0);
  });

  it('locked sliders show the measured split, else the global value; unlocking starts from what they show', () => {
    const owl = { blockSparsity: [0.45, 0.55, 0.5, 0.5] } as unknown as WorkbenchReport;
    const locked = { ...free, layerSparsity: null };
    expect(shownLayerSparsity(locked, 4, owl)).toEqual([0.45, 0.55, 0.5, 0.5]);
    expect(shownLayerSparsity(locked, 4, null)).toEqual([0.2, 0.2, 0.2, 0.2]);
    expect(shownLayerSparsity(locked, 4, { ...owl, structure: 'heads' } as WorkbenchReport)).toEqual([
      0.2, 0.2, 0.2, 0.2,
    ]);
    expect(shownLayerSparsity(free, 4, owl)).toEqual(free.layerSparsity);
    expect(unlockedValues([0.4567, 0.991, -0.001, 0.3])).toEqual([0.46, 0.95, 0, 0.3]);
  });

  it('a report’s facts: what each block reached, the target where it missed by over half a point, OWL’s outliers', () => {
    const report = {
      blockSparsity: [0.5, 0.473, 0.3],
      targetBlockSparsity: [0.5, 0.5, 0.297],
      outlierRatios: [3.14, 1, 0],
    } as unknown as WorkbenchReport;
    const facts = blockFacts(report, 3)!;
    expect(facts.map((f) => f.target)).toEqual([null, 0.5, null]);
    expect(facts.map(reachedText)).toEqual(['50.0%', 'target 50%, reached 47.3%', '30.0%']);
    expect(outliersText(facts[0].outliers!)).toBe('outliers 3.1%');
    const plain = blockFacts({ ...report, targetBlockSparsity: null, outlierRatios: null }, 3)!;
    expect(plain.every((f) => f.target === null && f.outliers === null)).toBe(true);
    expect(reachedText({ reached: 0.4, target: 0.4812, outliers: null })).toBe('target 48.1%, reached 40.0%');
    expect(blockFacts(report, 4)).toBeNull();
    expect(blockFacts(null, 3)).toBeNull();
  });

  it('a split EvoPress found says how far its search went and what it reached', () => {
    const report = { recipe: { allocation: 'evopress' }, blockSparsity: [0.4, 0.6] } as unknown as WorkbenchReport;
    const search = { generation: 20, generations: 20, fitness: 0.01234, blockSparsity: [0.4, 0.6], evaluations: 160 };
    expect(searchText(report, search)).toBe(
      'Split found by EvoPress after 20 of 20 generations (160 splits measured): KL 0.0123 nats per token from the dense model’s predictions on the calibration windows.',
    );
    expect(searchText(report, null)).toBeNull();
    expect(searchText({ ...report, recipe: { allocation: 'owl' } } as unknown as WorkbenchReport, search)).toBeNull();
    expect(searchText(null, search)).toBeNull();
  });

  it('values that do not fit the model are named in a message', () => {
    expect(layerSparsityMismatch(free, 4)).toBeNull();
    expect(layerSparsityMismatch({ ...free, layerSparsity: null }, 2)).toBeNull();
    expect(layerSparsityMismatch(free, 6)).toBe(
      'The link sets the sparsity of 4 blocks, but this model has 6: the blocks follow the global sparsity (20%) instead.',
    );
  });
});

const model = (layers: number) =>
  ({ key: 1, summary: { kind: 'vit', family: 'image-classifier', layers } as ModelSummary }) as LoadedModel;

describe('store: per-layer sliders and the map', () => {
  it('a link whose per-layer values do not fit the loaded model is locked, with a message, before pruning', () => {
    const recipes: WorkbenchRecipe[] = [];
    const engine = {
      prune: (r: WorkbenchRecipe) => {
        recipes.push(r);
        return manualJob<WorkbenchReport>().job;
      },
    } as unknown as EngineClient;
    const store = testStore({ engine: () => engine });
    store.setState({ model: model(6), config: free });
    store.getState().prune();
    expect(store.getState().config.layerSparsity).toBeNull();
    expect(store.getState().linkMessage).toMatch(/sparsity of 4 blocks, but this model has 6/);
    expect(recipes[0].kind === 'unstructured' && recipes[0].recipe.sparsity).toBe(0.2);
    // Another model resets them too (they were set for the old one's blocks).
    store.setState({ config: free });
    store.getState().setConfig({ model: 'gpt-bytes' });
    expect(store.getState().config.layerSparsity).toBeNull();
  });

  it('pruned shares are asked for once per measured configuration; a stale answer is dropped', async () => {
    const asked: ReturnType<typeof manualJob<PrunedShares>>[] = [];
    const engine = {
      prunedShares: () => asked[asked.push(manualJob<PrunedShares>()) - 1].job,
    } as unknown as EngineClient;
    const store = testStore({ engine: () => engine });
    const done = (key: string) => ({
      status: 'done' as const,
      key,
      value: { report: { recipe: { method: 'magnitude' } } as WorkbenchReport, point: {} as never },
    });
    const shares: PrunedShares = { heads: [[1]], ffn: [0.5], blocks: [0.6] };
    store.setState({ current: done('a') });
    store.getState().loadPrunedShares();
    store.getState().loadPrunedShares();
    expect(asked).toHaveLength(1);
    store.setState({ current: done('b') });
    store.getState().loadPrunedShares();
    asked[0].resolve(shares); // 'a' answers late: 'b' is what is shown now
    await tick();
    expect(store.getState().prunedShares).toMatchObject({ status: 'running', key: 'b' });
    asked[1].resolve(shares);
    await tick();
    expect(store.getState().prunedShares).toEqual({ status: 'done', key: 'b', value: shares });
    store.getState().loadPrunedShares();
    expect(asked).toHaveLength(2);
  });

  it('importance is asked for when the map is first coloured by it, once per model and calibration set', async () => {
    const asked: ReturnType<typeof manualJob<unknown>>[] = [];
    const engine = { mapImportance: () => asked[asked.push(manualJob<unknown>()) - 1].job } as unknown as EngineClient;
    const store = testStore({ engine: () => engine });
    store.setState({ model: model(4) });
    store.getState().setMapColour('flops');
    expect(asked).toHaveLength(0);
    store.getState().setMapColour('importance');
    store.getState().loadMapImportance();
    expect(asked).toHaveLength(1);
    asked[0].reject(new Error('no calibration data'));
    await tick();
    expect(store.getState().mapImportance).toMatchObject({ status: 'failed', message: 'no calibration data' });
    store.getState().loadMapImportance(); // Try again
    asked[1].resolve({ heads: [[1]], ffn: [1], calibration: 'x' });
    await tick();
    expect(store.getState().mapImportance.status).toBe('done');
    store.getState().loadMapImportance();
    expect(asked).toHaveLength(2);
    store.setState({ config: { ...store.getState().config, calibCount: 64 } });
    store.getState().loadMapImportance();
    expect(asked).toHaveLength(3);
  });
});
