// The page's one store. Its shared part, `config`, is exactly what the share link and localStorage
// hold (./share.ts); everything else is what is shown of the engine's answers (the loaded model, its
// metric, the current configuration's report, sweep curves, progress) or ephemeral UI state. Each
// concern is a slice in its own module, composed here; every engine call goes through the worker client.
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { engine as defaultEngine } from '../workers/client';
import { configSlice, type ConfigSlice, type ConfigSliceDeps } from './config-slice';
import { fetchCatalog, modelSlice, type ModelSlice, type ModelSliceDeps } from './model-slice';
import { inspectSlice, type InspectSlice } from './inspect-slice';
import { deviceSlice, type DeviceSlice } from './device-slice';
import { layerDetailSlice, type LayerDetailSlice } from './layer-detail-slice';
import { mapSlice, type MapSlice } from './map-slice';

export type WorkbenchState = ModelSlice & ConfigSlice & InspectSlice & DeviceSlice & LayerDetailSlice & MapSlice;

export type StoreDeps = ModelSliceDeps & ConfigSliceDeps;

export function createWorkbenchStore(deps: StoreDeps): StoreApi<WorkbenchState> {
  return createStore<WorkbenchState>()((...a) => ({
    ...modelSlice(deps)(...a),
    ...configSlice(deps)(...a),
    ...inspectSlice(deps)(...a),
    ...deviceSlice(deps)(...a),
    ...layerDetailSlice(deps)(...a),
    ...mapSlice(deps)(...a),
  }));
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
