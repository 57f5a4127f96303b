// The store's model-map slice: what the map is coloured by, and the worker's answers it colours
// with — head and FFN importance (asked for once per model and calibration set, when the map is
// first coloured by importance) and the pruned shares of the current configuration (asked for
// once its report is in). The colouring is a view choice, not part of the share link.
import type { StateCreator } from 'zustand/vanilla';
import {
  errorMessage,
  isAbortError,
  type EngineClient,
  type MapImportance,
  type Progress,
  type PrunedShares,
  type WorkbenchRecipe,
  type WorkbenchReport,
} from '../workers/client';
import type { MapColour } from './model-map';
import type { WorkbenchState } from './store';

export type ImportanceState =
  | { status: 'idle' }
  | { status: 'running'; key: string; progress: Progress }
  | { status: 'done'; key: string; data: MapImportance }
  | { status: 'failed'; key: string; message: string };

/** The pruned shares of one measured configuration (its `current.key`), or why they could not be read. */
export type SharesState = { key: string; shares: PrunedShares } | { key: string; message: string };

export interface MapSlice {
  mapColour: MapColour;
  mapImportance: ImportanceState;
  prunedShares: SharesState | null;
  setMapColour(colour: MapColour): void;
  /** Asks for the importance of the loaded model on the configuration's calibration set, unless held or running. */
  loadMapImportance(): void;
  /** Asks for the pruned shares of the current configuration once it is measured, unless held. */
  loadPrunedShares(): void;
}

export interface MapSliceDeps {
  engine: () => EngineClient;
}

/** Which importance the map needs now: the loaded model on the configuration's calibration set. */
export function importanceKey(s: WorkbenchState): string | null {
  return s.model ? `${s.model.key}|${s.config.calibSource}|${s.config.calibCount}` : null;
}

/** The recipe a report was measured by (the worker keeps that recipe's masks). */
export function recipeOfReport(report: WorkbenchReport): WorkbenchRecipe {
  return 'structure' in report
    ? { kind: 'structured', recipe: report.recipe }
    : { kind: 'unstructured', recipe: report.recipe };
}

/** The pruned shares to draw: those of the measured current configuration, else none (dense, or not yet known). */
export function shownShares(s: WorkbenchState): PrunedShares | null {
  const p = s.prunedShares;
  return s.current.status === 'done' && p && p.key === s.current.key && 'shares' in p ? p.shares : null;
}

export function mapSlice(deps: MapSliceDeps): StateCreator<WorkbenchState, [], [], MapSlice> {
  /** The configuration whose shares are being read, so a re-render does not ask twice. */
  let pendingShares: string | null = null;
  return (set, get) => ({
    mapColour: 'flops',
    mapImportance: { status: 'idle' },
    prunedShares: null,

    setMapColour(colour) {
      set({ mapColour: colour });
      if (colour === 'importance') get().loadMapImportance();
    },

    loadMapImportance() {
      const key = importanceKey(get());
      const held = get().mapImportance;
      if (!key || (held.status !== 'idle' && held.key === key && held.status !== 'failed')) return;
      const { calibSource, calibCount } = get().config;
      const job = deps.engine().mapImportance({ source: calibSource, count: calibCount, seed: 0 }, (progress) => {
        if (importanceKey(get()) === key) set({ mapImportance: { status: 'running', key, progress } });
      });
      set({ mapImportance: { status: 'running', key, progress: { label: 'Scoring importance', fraction: null } } });
      job.result.then(
        (data) => {
          if (importanceKey(get()) === key) set({ mapImportance: { status: 'done', key, data } });
        },
        (e) => {
          const mine = get().mapImportance;
          if (mine.status !== 'running' || mine.key !== key) return;
          // A newer request (another model or calibration set) cancelled this one and owns the state.
          set({
            mapImportance: isAbortError(e) ? { status: 'idle' } : { status: 'failed', key, message: errorMessage(e) },
          });
        },
      );
    },

    loadPrunedShares() {
      const current = get().current;
      if (current.status !== 'done' || get().prunedShares?.key === current.key || pendingShares === current.key) return;
      const key = current.key;
      pendingShares = key;
      const job = deps.engine().prunedShares(recipeOfReport(current.report));
      const settle = (state: SharesState | null) => {
        if (pendingShares !== key) return; // a newer configuration's request cancelled this one
        pendingShares = null;
        set({ prunedShares: state });
      };
      job.result.then(
        (shares) => settle({ key, shares }),
        (e) => settle(isAbortError(e) ? null : { key, message: errorMessage(e) }),
      );
    },
  });
}
