// The store's layer detail slice: which linear of the selected block is shown, the worker's answer
// about it under the current configuration, and the blocks' sensitivity curves (on request: they
// are slow). The selected block itself is `config.layer`, part of the share link.
import type { StateCreator } from 'zustand/vanilla';
import {
  errorMessage,
  isAbortError,
  type EngineClient,
  type Job,
  type LayerDetail,
  type LayerDetailRequest,
  type ModelSummary,
  type Progress,
  type SensitivityRequest,
  type SensitivityResult,
} from '../workers/client';
import { amountOf, isStructured, recipeOf } from './config-slice';
import type { ShareState } from './share';
import type { WorkbenchState } from './store';

export type LinearRole = LayerDetailRequest['role'];

export interface DetailView {
  /** The linear picked in the block; null: the block's first. */
  role: LinearRole | null;
  /** The answer shown, and the request it answers (kept while a newer one runs). */
  shown: { key: string; modelKey: number; request: LayerDetailRequest; detail: LayerDetail } | null;
  running: { key: string; progress: Progress } | null;
  error: { key: string; message: string } | null;
}

export interface SensitivityView {
  shown: { key: string; result: SensitivityResult } | null;
  running: { key: string; progress: Progress } | null;
  error: string | null;
  /** The user stopped the last computation. */
  cancelled: boolean;
}

export interface LayerDetailSlice {
  layerDetail: DetailView;
  sensitivity: SensitivityView;
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
}

/** The prunable linears of a block, in the model's order. */
export function blockRoles(summary: ModelSummary, layer: number): LinearRole[] {
  return summary.cost.linears.filter((l) => l.layer === layer).map((l) => l.role);
}

/** The scores a configuration is read by: its method's, or |w| for structured pruning (no weight scores decide it). */
export function scoringOf(c: ShareState): SensitivityRequest {
  return {
    method: isStructured(c.granularity) ? 'magnitude' : c.method,
    calibration: recipeOf(c).recipe.calibration ?? null,
  };
}

/** What the detail asks the worker for now, or null when no block (or no such block) is selected. */
export function detailTarget(s: WorkbenchState): { key: string; request: LayerDetailRequest } | null {
  const model = s.model;
  const layer = s.config.layer;
  if (!model || layer === null || layer >= model.summary.layers) return null;
  const roles = blockRoles(model.summary, layer);
  const picked = s.layerDetail.role;
  const role = picked && roles.includes(picked) ? picked : roles[0];
  if (!role) return null;
  const request: LayerDetailRequest = {
    layer,
    role,
    ...scoringOf(s.config),
    recipe: amountOf(s.config) > 0 ? recipeOf(s.config) : null,
  };
  return { key: `${model.key}|${JSON.stringify(request)}`, request };
}

/** Which sensitivity curves fit the current configuration. */
export function sensitivityKey(s: WorkbenchState): string | null {
  return s.model ? `${s.model.key}|${JSON.stringify(scoringOf(s.config))}` : null;
}

const emptyDetail: DetailView = { role: null, shown: null, running: null, error: null };
const emptySensitivity: SensitivityView = { shown: null, running: null, error: null, cancelled: false };

export function layerDetailSlice(deps: LayerDetailSliceDeps): StateCreator<WorkbenchState, [], [], LayerDetailSlice> {
  let detailJob: Job<LayerDetail> | null = null;
  let sensitivityJob: Job<SensitivityResult> | null = null;

  return (set, get) => {
    const patchDetail = (p: Partial<DetailView>) => set({ layerDetail: { ...get().layerDetail, ...p } });
    const patchSensitivity = (p: Partial<SensitivityView>) => set({ sensitivity: { ...get().sensitivity, ...p } });

    return {
      layerDetail: emptyDetail,
      sensitivity: emptySensitivity,

      setDetailRole(role) {
        patchDetail({ role });
      },

      loadLayerDetail(retry = false) {
        const s = get();
        const target = detailTarget(s);
        const d = s.layerDetail;
        if (!target || !s.model || d.running?.key === target.key) return;
        if (!d.running && (d.shown?.key === target.key || (d.error?.key === target.key && !retry))) return;
        const { key, request } = target;
        const modelKey = s.model.key;
        const job = deps.engine().layerDetail(request, (progress) => {
          if (detailJob === job) patchDetail({ running: { key, progress } });
        });
        detailJob = job;
        patchDetail({ running: { key, progress: { label: 'Reading the layer', fraction: null } }, error: null });
        job.result.then(
          (detail) => {
            if (detailJob !== job) return;
            detailJob = null;
            patchDetail({ shown: { key, modelKey, request, detail }, running: null });
          },
          (e) => {
            if (detailJob !== job) return;
            detailJob = null;
            patchDetail({ running: null, error: isAbortError(e) ? null : { key, message: errorMessage(e) } });
          },
        );
      },

      computeSensitivity() {
        const s = get();
        const key = sensitivityKey(s);
        if (!key || s.sensitivity.running?.key === key) return;
        const job = deps.engine().layerSensitivity(scoringOf(s.config), (progress) => {
          if (sensitivityJob === job) patchSensitivity({ running: { key, progress } });
        });
        sensitivityJob = job;
        patchSensitivity({
          running: { key, progress: { label: 'Starting', fraction: null } },
          error: null,
          cancelled: false,
        });
        job.result.then(
          (result) => {
            if (sensitivityJob !== job) return;
            sensitivityJob = null;
            patchSensitivity({ shown: { key, result }, running: null });
          },
          (e) => {
            if (sensitivityJob !== job) return;
            sensitivityJob = null;
            patchSensitivity({
              running: null,
              error: isAbortError(e) ? null : errorMessage(e),
              cancelled: isAbortError(e),
            });
          },
        );
      },

      cancelSensitivity() {
        sensitivityJob?.cancel();
      },

      closeLayerDetail() {
        detailJob?.cancel();
        sensitivityJob?.cancel();
        get().setConfig({ layer: null });
      },
    };
  };
}
