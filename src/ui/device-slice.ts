// The store's device slice: what became of the GPU device the worker computes on. When it is lost,
// the worker starts a new one and uploads the model to it again (src/workers/device-loss.ts), and
// stops every job that ran on the lost device (their slots go back to what they showed); the page
// then asks again for what the loss interrupted. The configuration, the slider and the curves are
// never touched: they live here, not on the device.
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
  /** The baseline was being measured when the device was lost (one the user cancelled stays cancelled). */
  let measuringAtLoss = false;
  return (set, get) => ({
    device: { status: 'ok' },

    watchDevice() {
      if (watching) return;
      watching = true;
      void deps.engine().watchDevice((event) => {
        if (event.kind === 'lost') {
          measuringAtLoss = get().evaluation.status === 'running';
          set({ device: { status: 'lost', message: event.message } });
        } else if (event.kind === 'failed') set({ device: { status: 'failed', message: event.message } });
        else {
          set({ device: { status: 'recovered', message: event.message }, backend: event.backend });
          // Measure again on the new device what the loss stopped; the views ask again for what
          // they do not show yet (each skips what it shows).
          if (measuringAtLoss) void get().evaluate();
          get().prune();
          get().inspect();
          get().loadLayerDetail();
          if (get().mapColour === 'importance') get().loadMapImportance();
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
