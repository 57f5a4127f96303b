// The store's layer detail slice: which linear of the selected block is shown, the worker's answer
// about it under the current configuration, and the blocks' sensitivity curves (on request: they
// are slow). The selected block itself is `config.layer`, part of the share link.
import type { StateCreator } from 'zustand/vanilla';
import type {
  EngineClient,
  LayerDetail,
  LayerDetailRequest,
  ModelSummary,
  SensitivityRequest,
  SensitivityResult,
} from '../workers/client';
import { calibrationOf, changesModel, isStructured, recipeFor } from './config-slice';
import { ALL_SETS, type CalibSets, calibSetsOf } from './choices';
import { IDLE, type JobState, type Jobs, mapJob } from './jobs';
import type { ShareState } from './share';
import type { WorkbenchState } from './store';

export type LinearRole = LayerDetailRequest['role'];

/** A linear's detail as the worker answered it, with the request it answers. */
export interface DetailShown {
  modelKey: number;
  request: LayerDetailRequest;
  detail: LayerDetail;
}

export interface LayerDetailSlice {
  /** The linear picked in the block; null: the block's first. */
  detailRole: LinearRole | null;
  /** The selected linear under the current configuration (its key: see detailTarget); the last answer stays while the next runs. */
  layerDetail: JobState<DetailShown>;
  /** Every block's sensitivity curve for the configuration's scores (its key: see sensitivityKey). */
  sensitivity: JobState<SensitivityResult>;
  setDetailRole(role: LinearRole): void;
  /** Asks for the selected linear under the current configuration, unless that is shown or running; `retry` asks again after an error. */
  loadLayerDetail(retry?: boolean): void;
  computeSensitivity(): void;
  cancelSensitivity(): void;
  /** Closes the detail (the link forgets the block) and stops its work. */
  closeLayerDetail(): void;
}

export interface LayerDetailSliceDeps {
  engine: () => EngineClient;
  jobs: Jobs;
}

/** The prunable linears of a block, in the model's order. */
export function blockRoles(summary: ModelSummary, layer: number): LinearRole[] {
  return summary.cost.linears.filter((l) => l.layer === layer).map((l) => l.role);
}

/** The scores a configuration is read by: its method's, or |w| for structured pruning (no weight scores decide it). */
export function scoringOf(c: ShareState, sets: CalibSets = ALL_SETS): SensitivityRequest {
  return {
    method: isStructured(c.granularity) ? 'magnitude' : c.method,
    calibration: calibrationOf(c, sets),
  };
}

/** What the detail asks the worker for now, or null when no block (or no such block) is selected. */
export function detailTarget(s: WorkbenchState): { key: string; request: LayerDetailRequest } | null {
  const model = s.model;
  const layer = s.config.layer;
  if (!model || layer === null || layer >= model.summary.layers) return null;
  const roles = blockRoles(model.summary, layer);
  const picked = s.detailRole;
  const role = picked && roles.includes(picked) ? picked : roles[0];
  if (!role) return null;
  const request: LayerDetailRequest = {
    layer,
    role,
    ...scoringOf(s.config, calibSetsOf(model.summary)),
    recipe: changesModel(s.config) ? recipeFor(s.config, model.summary) : null,
  };
  return { key: `${model.key}|${JSON.stringify(request)}`, request };
}

/** Which sensitivity curves fit the current configuration. */
export function sensitivityKey(s: WorkbenchState): string | null {
  return s.model ? `${s.model.key}|${JSON.stringify(scoringOf(s.config, calibSetsOf(s.model.summary)))}` : null;
}

export function layerDetailSlice(deps: LayerDetailSliceDeps): StateCreator<WorkbenchState, [], [], LayerDetailSlice> {
  return (set, get) => {
    const detailing = deps.jobs.slot(
      () => get().layerDetail,
      (layerDetail) => set({ layerDetail }),
    );
    const measuring = deps.jobs.slot(
      () => get().sensitivity,
      (sensitivity) => set({ sensitivity }),
    );

    return {
      detailRole: null,
      layerDetail: IDLE,
      sensitivity: IDLE,

      setDetailRole(role) {
        set({ detailRole: role });
      },

      loadLayerDetail(retry = false) {
        const s = get();
        const target = detailTarget(s);
        const d = s.layerDetail;
        if (!target || !s.model || (d.status !== 'idle' && d.key === target.key && (d.status !== 'failed' || !retry)))
          return;
        const { key, request } = target;
        const modelKey = s.model.key;
        void detailing.start(
          key,
          (onProgress) =>
            mapJob(deps.engine().layerDetail(request, onProgress), (detail) => ({ modelKey, request, detail })),
          { label: 'Reading the layer', fraction: null },
        );
      },

      computeSensitivity() {
        const s = get();
        const key = sensitivityKey(s);
        if (!key || (s.sensitivity.status === 'running' && s.sensitivity.key === key)) return;
        void measuring.start(
          key,
          (onProgress) =>
            deps.engine().layerSensitivity(scoringOf(s.config, calibSetsOf(s.model!.summary)), onProgress),
          {
            label: 'Starting',
            fraction: null,
          },
        );
      },

      cancelSensitivity() {
        measuring.cancel();
      },

      closeLayerDetail() {
        detailing.stop();
        measuring.stop();
        get().setConfig({ layer: null });
      },
    };
  };
}
