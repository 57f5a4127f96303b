// The layer detail slice with a fake worker: what it asks for (the block from the link, the picked
// linear, the configuration's mask and scores), stale answers dropped, errors kept until a retry,
// sensitivity computed on request and cancellable, and Close clearing the link's block.
import { afterEach, describe, expect, it } from 'vitest';
import type {
  EngineClient,
  LayerDetail,
  LayerDetailRequest,
  ModelSummary,
  SensitivityRequest,
  SensitivityResult,
} from '../workers/client';
import { blockRoles, detailTarget, scoringOf } from './layer-detail-slice';
import { defaultShareState } from './share';
import { type LoadedModel, shownOf } from './store';
import { disposeTestStores, flush, manualJob, testStore } from './test-store';

afterEach(disposeTestStores);

const roles = ['q', 'k', 'v', 'attn_out', 'ffn_in', 'ffn_out'] as const;
const summary = {
  kind: 'vit',
  family: 'image-classifier',
  layers: 2,
  calibSet: true,
  cost: {
    linears: [{ layer: -1, role: 'patch' }, ...[0, 1].flatMap((layer) => roles.map((role) => ({ layer, role })))],
  },
} as unknown as ModelSummary;
const fakeDetail = (tag: string) => ({ tag }) as unknown as LayerDetail;

function setup() {
  const asked: LayerDetailRequest[] = [];
  const jobs: ReturnType<typeof manualJob<LayerDetail>>[] = [];
  const sensitivityAsked: SensitivityRequest[] = [];
  const sensitivityJobs: ReturnType<typeof manualJob<SensitivityResult>>[] = [];
  const engine = {
    layerDetail: (request: LayerDetailRequest) => {
      asked.push(request);
      return jobs[jobs.push(manualJob<LayerDetail>()) - 1].job;
    },
    layerSensitivity: (request: SensitivityRequest) => {
      sensitivityAsked.push(request);
      return sensitivityJobs[sensitivityJobs.push(manualJob<SensitivityResult>()) - 1].job;
    },
  } as unknown as EngineClient;
  const store = testStore({ engine: () => engine });
  store.setState({ model: { key: 1, summary } as LoadedModel, config: defaultShareState('vit-fashion') });
  return { store, asked, jobs, sensitivityAsked, sensitivityJobs };
}

describe('detailTarget', () => {
  it('asks for the linked block, the picked linear (else the first), with the configuration mask', () => {
    const { store } = setup();
    expect(detailTarget(store.getState())).toBeNull();
    store.getState().setConfig({ layer: 1 });
    expect(detailTarget(store.getState())?.request).toEqual({
      layer: 1,
      role: 'q',
      method: 'magnitude',
      calibration: { source: 'train', count: 128, seed: 0 },
      recipe: null,
    });
    store.getState().setDetailRole('ffn_out');
    store.getState().setConfig({ sparsity: 0.4, method: 'wanda' });
    const t = detailTarget(store.getState())!;
    expect(t.request).toMatchObject({
      role: 'ffn_out',
      method: 'wanda',
      recipe: { kind: 'unstructured', recipe: { method: 'wanda', sparsity: 0.4, scope: 'row' } },
    });
    expect(t.key.startsWith('1|')).toBe(true);
    // A linear the block does not have (GPT-2's qkv in a ViT) falls back to the first.
    store.getState().setDetailRole('qkv');
    expect(detailTarget(store.getState())?.request.role).toBe('q');
    // A block the model does not have shows nothing.
    store.getState().setConfig({ layer: 5 });
    expect(detailTarget(store.getState())).toBeNull();
  });

  it('reads structured pruning by |w|', () => {
    expect(scoringOf({ ...defaultShareState(), granularity: 'heads', method: 'wanda' }).method).toBe('magnitude');
    expect(scoringOf({ ...defaultShareState(), granularity: 'nm', method: 'taylor' }).method).toBe('taylor');
    expect(blockRoles(summary, 0)).toEqual([...roles]);
  });
});

describe('loadLayerDetail', () => {
  it('asks once per target, drops a stale answer, and keeps the shown one while the next runs', async () => {
    const { store, asked, jobs } = setup();
    store.getState().setConfig({ layer: 0 });
    store.getState().loadLayerDetail();
    store.getState().loadLayerDetail();
    expect(asked).toHaveLength(1);
    jobs[0].resolve(fakeDetail('dense'));
    await flush();
    const shown = () => shownOf(store.getState().layerDetail)?.value.detail;
    expect(shown()).toEqual(fakeDetail('dense'));
    store.getState().loadLayerDetail();
    expect(asked).toHaveLength(1);

    store.getState().setConfig({ sparsity: 0.3 });
    store.getState().loadLayerDetail();
    store.getState().setConfig({ sparsity: 0.5 });
    store.getState().loadLayerDetail();
    expect(asked.map((r) => (r.recipe?.kind === 'unstructured' ? r.recipe.recipe.sparsity : 0))).toEqual([0, 0.3, 0.5]);
    // The answer for 30% arrives late: it is not shown.
    jobs[1].resolve(fakeDetail('30%'));
    await flush();
    expect(shown()).toEqual(fakeDetail('dense'));
    expect(store.getState().layerDetail.status).toBe('running');
    jobs[2].resolve(fakeDetail('50%'));
    await flush();
    expect(shown()).toEqual(fakeDetail('50%'));
    expect(store.getState().layerDetail.status).toBe('done');
  });

  it('shows an error and asks again only on retry', async () => {
    const { store, asked, jobs } = setup();
    store.getState().setConfig({ layer: 1 });
    store.getState().loadLayerDetail();
    jobs[0].reject(new Error('block 1 has no "q" layer'));
    await flush();
    expect(store.getState().layerDetail).toMatchObject({ status: 'failed', message: 'block 1 has no "q" layer' });
    store.getState().loadLayerDetail();
    expect(asked).toHaveLength(1);
    store.getState().loadLayerDetail(true);
    expect(asked).toHaveLength(2);
    expect(store.getState().layerDetail.status).toBe('running');
  });
});

describe('sensitivity and close', () => {
  it('computes on request for the configuration scores, and says when it was cancelled', async () => {
    const { store, sensitivityAsked, sensitivityJobs } = setup();
    store.getState().setConfig({ layer: 0, method: 'taylor', calibCount: 16 });
    store.getState().computeSensitivity();
    expect(sensitivityAsked).toEqual([{ method: 'taylor', calibration: { source: 'train', count: 16, seed: 0 } }]);
    store.getState().cancelSensitivity();
    await flush();
    expect(store.getState().sensitivity).toMatchObject({ status: 'cancelled', last: null });
    store.getState().computeSensitivity();
    const result = { method: 'taylor', calibration: '16 train images', curves: [] } as SensitivityResult;
    sensitivityJobs[1].resolve(result);
    await flush();
    expect(store.getState().sensitivity).toMatchObject({ status: 'done', value: result });
  });

  it('Close forgets the block and stops the running work', () => {
    const { store, jobs, sensitivityJobs } = setup();
    store.getState().setConfig({ layer: 1 });
    store.getState().loadLayerDetail();
    store.getState().computeSensitivity();
    store.getState().closeLayerDetail();
    expect(store.getState().config.layer).toBeNull();
    expect(jobs[0].cancelled()).toBe(true);
    expect(sensitivityJobs[0].cancelled()).toBe(true);
  });
});
