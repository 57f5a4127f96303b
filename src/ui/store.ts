// The page's one store. Its shared part, `config`, is exactly what the share link holds (./share.ts);
// the configuration and the sweep curves are also kept in the browser's storage (zustand's persist,
// checked on the way back as strictly as a link). Everything else is what is shown of the engine's
// answers (the loaded model, its metric, the current configuration's report, progress) or
// ephemeral UI state. Each concern is a slice in its own module, composed here; every engine call
// goes through the worker client, each job in a slot the store owns (./jobs.ts), so `dispose()`
// stops them all.
import { useStore } from 'zustand';
import { createJSONStorage, persist, type StateStorage } from 'zustand/middleware';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { engine as defaultEngine } from '../workers/client';
import {
  configSlice,
  type ConfigSlice,
  type ConfigSliceDeps,
  type Kept,
  keptOf,
  restoredOf,
  STORAGE_KEY,
} from './config-slice';
import { fetchCatalog, modelSlice, type ModelSlice, type ModelSliceDeps } from './model-slice';
import { inspectSlice, type InspectSlice } from './inspect-slice';
import { deviceSlice, type DeviceSlice } from './device-slice';
import { layerDetailSlice, type LayerDetailSlice } from './layer-detail-slice';
import { mapSlice, type MapSlice } from './map-slice';
import { recoverySlice, type RecoverySlice } from './recovery-slice';
import { createJobs } from './jobs';

export type WorkbenchState = ModelSlice &
  ConfigSlice &
  InspectSlice &
  DeviceSlice &
  LayerDetailSlice &
  MapSlice &
  RecoverySlice & {
    /** Cancels every job the store started and clears its timers; it then starts nothing (tests, a closed page). */
    dispose(): void;
  };

export type StoreDeps = Omit<ModelSliceDeps & ConfigSliceDeps, 'jobs'> & {
  /** Where the configuration and curves are kept across reloads; null: nowhere. */
  storage: StateStorage | null;
};

/**
 * What pages before the persist middleware kept, `{config, curves}`, in persist's `{state, version}`.
 * Their `scope: 'layer'` meant "the method's own" (per row for Wanda), which is 'default' now.
 */
export function fromEarlierStorage(raw: string | null): string | null {
  if (raw === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof parsed !== 'object' || parsed === null || 'state' in parsed || !('config' in parsed)) return raw;
  const { config, curves } = parsed as { config: unknown; curves?: unknown };
  const scoped =
    typeof config === 'object' && config !== null && (config as { scope?: unknown }).scope === 'layer'
      ? { ...config, scope: 'default' }
      : config;
  return JSON.stringify({ state: { config: scoped, curves }, version: 0 });
}

/**
 * The browser's storage as the store writes it: only when what is kept changed (the store changes
 * with every progress report), and never failing the page when storage is full or blocked.
 */
function keptStorage(storage: StateStorage | null): StateStorage {
  let last: string | null = null;
  return {
    getItem: (name) => fromEarlierStorage((storage?.getItem(name) as string | null | undefined) ?? null),
    setItem(name, value) {
      if (!storage || value === last) return;
      last = value;
      try {
        storage.setItem(name, value);
      } catch {
        // Storage full or blocked: the page still works.
      }
    },
    removeItem: (name) => storage?.removeItem(name),
  };
}

export function createWorkbenchStore(deps: StoreDeps): StoreApi<WorkbenchState> {
  const jobs = createJobs();
  const sliceDeps = { ...deps, jobs };
  return createStore<WorkbenchState>()(
    persist<WorkbenchState, [], [], Kept>(
      (...a) => ({
        ...modelSlice(sliceDeps)(...a),
        ...configSlice(sliceDeps)(...a),
        ...inspectSlice(sliceDeps)(...a),
        ...deviceSlice(sliceDeps)(...a),
        ...layerDetailSlice(sliceDeps)(...a),
        ...mapSlice(sliceDeps)(...a),
        ...recoverySlice(sliceDeps)(...a),
        dispose: jobs.dispose,
      }),
      {
        name: STORAGE_KEY,
        storage: createJSONStorage(() => keptStorage(deps.storage)),
        partialize: keptOf,
        merge: (stored, current) => ({ ...current, ...restoredOf(stored) }),
      },
    ),
  );
}

export const workbenchStore = createWorkbenchStore({
  engine: defaultEngine,
  loadCatalog: fetchCatalog,
  storage: typeof localStorage === 'undefined' ? null : localStorage,
});

/** React hook on the page's store: `useWorkbench((s) => s.model)`. */
export function useWorkbench<T>(selector: (s: WorkbenchState) => T): T {
  return useStore(workbenchStore, selector);
}

// One import point for the views: the slices' types and pure helpers.
export * from './model-slice';
export * from './config-slice';
export * from './inspect-slice';
export * from './device-slice';
export * from './layer-detail-slice';
export * from './map-slice';
export * from './recovery-slice';
export * from './recovery';
export * from './jobs';
