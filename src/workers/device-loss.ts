// A lost WebGPU device (a driver reset, the GPU taken away, or GPUDevice.destroy()) takes every
// tensor on it along, and TensorFlow.js's 'webgpu' backend never asks for another. The worker
// watches the device of the backend it runs on; on a loss it resets that backend, starts a new one
// and re-uploads the model from the files it kept (see engine.worker.ts), then tells the page.
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { BackendInfo, DeviceEvent } from './api';

/** The GPUDevice TensorFlow.js's active backend runs on; null off WebGPU. */
export function activeDevice(): GPUDevice | null {
  return tf.getBackend() === 'webgpu' ? (tf.backend() as WebGPUBackend).device : null;
}

function describeLoss(info: GPUDeviceLostInfo): string {
  const why = info.reason === 'destroyed' ? 'the device was destroyed' : 'the device was lost';
  return info.message ? `${why}: ${info.message}` : why;
}

/**
 * Watches the active backend's device and runs `recover` once it is lost, telling the listeners
 * before and after. Every new device is watched again, so a second loss recovers too.
 */
export class DeviceWatch {
  private readonly listeners = new Set<(event: DeviceEvent) => void>();
  private watched: GPUDevice | null = null;

  constructor(private readonly recover: () => Promise<BackendInfo>) {}

  /** Starts watching the active backend's device; nothing to do off WebGPU or when already watched. */
  watchActive(): void {
    const device = activeDevice();
    if (!device || device === this.watched) return;
    this.watched = device;
    void device.lost.then(async (info) => {
      const lost = describeLoss(info);
      this.emit({ kind: 'lost', message: lost });
      try {
        const backend = await this.recover();
        this.watchActive();
        this.emit({ kind: 'recovered', message: lost, backend });
      } catch (e) {
        this.emit({ kind: 'failed', message: `${lost}; recovering failed: ${(e as Error).message}` });
      }
    });
  }

  subscribe(listener: (event: DeviceEvent) => void): void {
    this.listeners.add(listener);
  }

  /**
   * Destroys the watched device: a real device loss as WebGPU defines it (its `lost` promise
   * resolves with reason "destroyed"), for tests. False when the worker is not on WebGPU.
   */
  loseDevice(): boolean {
    const device = activeDevice();
    if (!device) return false;
    device.destroy();
    return true;
  }

  private emit(event: DeviceEvent): void {
    for (const listener of this.listeners) {
      // A listener on a closed page rejects; the others still hear.
      Promise.resolve(listener(event)).catch(() => this.listeners.delete(listener));
    }
  }
}
