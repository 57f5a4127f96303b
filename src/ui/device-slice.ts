// The store's device slice: what became of the GPU device the worker computes on. When it is lost,
// the worker starts a new one and uploads the model to it again (src/workers/device-loss.ts); the
// page then measures again what the loss interrupted. The configuration, the slider and the curves
// are never touched: they live here, not on the device.
import type { StateCreator } from 'zustand/vanilla';
import { errorMessage, type EngineClient } from '../workers/client';
import type { WorkbenchState } from './store';

export type DeviceState =
  | { status: 'ok' }
  | { status: 'lost'; message: string }
  | { status: 'recovered'; message: string }
  | { status: 'failed'; message: string };

export interface DeviceSlice {
  device: DeviceState;
  /** Listens to the worker's device events (once; later calls do nothing). */
  watchDevice(): void;
  /** For tests (?debug=lose-device): destroys the worker's GPU device, a real loss. */
  loseDevice(): Promise<void>;
}

export interface DeviceSliceDeps {
  engine: () => EngineClient;
}

export function deviceSlice(deps: DeviceSliceDeps): StateCreator<WorkbenchState, [], [], DeviceSlice> {
  let watching = false;
  return (set, get) => ({
    device: { status: 'ok' },

    watchDevice() {
      if (watching) return;
      watching = true;
      void deps.engine().watchDevice((event) => {
        if (event.kind === 'lost') set({ device: { status: 'lost', message: event.message } });
        else if (event.kind === 'failed') set({ device: { status: 'failed', message: event.message } });
        else {
          set({ device: { status: 'recovered', message: event.message }, backend: event.backend });
          // The worker stopped what ran on the lost device: measure it again on the new one (a
          // baseline the user cancelled stays cancelled).
          if (get().evaluation.status === 'running') void get().evaluate();
          get().prune();
        }
      });
    },

    async loseDevice() {
      try {
        if (!(await deps.engine().debugLoseDevice()))
          set({
            notice: {
              title: 'No GPU device to lose',
              message: `The worker runs on the ${get().backend?.name ?? 'unknown'} backend, not on WebGPU.`,
            },
          });
      } catch (e) {
        set({ notice: { title: 'Could not lose the GPU device', message: errorMessage(e) } });
      }
    },
  });
}
