// The store's model-map slice: what the map is coloured by, and the worker's answers it colours
// with — head and FFN importance (asked for once per model and calibration set, when the map is
// first coloured by importance) and the pruned shares of the current configuration (asked for
// once its report is in). The colouring is a view choice, not part of the share link.
import type { StateCreator } from 'zustand/vanilla';
import type { EngineClient, MapImportance, PrunedShares, WorkbenchRecipe, WorkbenchReport } from '../workers/client';
import { calibrationOf } from './config-slice';
import { calibSetsOf, resolveCalibSource } from './choices';
import { IDLE, type JobState, type Jobs } from './jobs';
import type { MapColour } from './model-map';
import type { WorkbenchState } from './store';

export interface MapSlice {
  mapColour: MapColour;
  /** Head and FFN importance of the loaded model on the configuration's calibration set (its key: see importanceKey). */
  mapImportance: JobState<MapImportance>;
  /** The pruned shares of the measured configuration (its key: `current.key`). */
  prunedShares: JobState<PrunedShares>;
  setMapColour(colour: MapColour): void;
  /** Asks for the importance of the loaded model on the configuration's calibration set, unless held or running. */
  loadMapImportance(): void;
  /** Asks for the pruned shares of the current configuration once it is measured, unless held. */
  loadPrunedShares(): void;
}

export interface MapSliceDeps {
  engine: () => EngineClient;
  jobs: Jobs;
}

/** Which importance the map needs now: the loaded model on the configuration's calibration set. */
export function importanceKey(s: WorkbenchState): string | null {
  return s.model
    ? `${s.model.key}|${resolveCalibSource(s.config.calibSource, calibSetsOf(s.model.summary))}|${s.config.calibCount}`
    : null;
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
  return s.current.status === 'done' && p.status === 'done' && p.key === s.current.key ? p.value : null;
}

export function mapSlice(deps: MapSliceDeps): StateCreator<WorkbenchState, [], [], MapSlice> {
  return (set, get) => {
    const scoring = deps.jobs.slot(
      () => get().mapImportance,
      (mapImportance) => set({ mapImportance }),
    );
    const reading = deps.jobs.slot(
      () => get().prunedShares,
      (prunedShares) => set({ prunedShares }),
    );

    return {
      mapColour: 'flops',
      mapImportance: IDLE,
      prunedShares: IDLE,

      setMapColour(colour) {
        set({ mapColour: colour });
        if (colour === 'importance') get().loadMapImportance();
      },

      loadMapImportance() {
        const key = importanceKey(get());
        const held = get().mapImportance;
        if (!key || (held.status !== 'idle' && held.status !== 'failed' && held.key === key)) return;
        const model = get().model;
        const calibration = calibrationOf(get().config, model ? calibSetsOf(model.summary) : undefined);
        void scoring.start(key, (onProgress) => deps.engine().mapImportance(calibration, onProgress), {
          label: 'Scoring importance',
          fraction: null,
        });
      },

      loadPrunedShares() {
        const current = get().current;
        const held = get().prunedShares;
        if (current.status !== 'done' || (held.status !== 'idle' && held.key === current.key)) return;
        const recipe = recipeOfReport(current.value.report);
        void reading.start(current.key, (onProgress) => deps.engine().prunedShares(recipe, onProgress), {
          label: 'Reading the pruned shares',
          fraction: null,
        });
      },
    };
  };
}
