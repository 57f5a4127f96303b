// Chooses the TensorFlow.js backend before any model is opened: WebGPU where the browser offers an
// adapter, else WASM (XNNPACK), else the plain CPU backend.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { BackendInfo, BackendName } from './api';
import { startWasm } from './wasm-backend';

async function adapterName(): Promise<{ name: string | null; software: boolean; reason: string | null }> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    return { name: null, software: false, reason: 'this browser does not offer WebGPU (navigator.gpu is missing)' };
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { name: null, software: false, reason: 'no WebGPU adapter is available' };
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const parts = [info?.vendor, info?.architecture || info?.device].filter(Boolean).join(' ');
  const fallback =
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ||
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter;
  return {
    name: `${parts || 'unknown adapter'}${fallback ? ' (software fallback)' : ''}`,
    software: !!fallback,
    reason: null,
  };
}

/** Why WebGPU cannot be used, or null when it started. */
async function startWebGpu(): Promise<{ adapter: string | null; software: boolean; reason: string | null }> {
  try {
    const found = await adapterName();
    if (!found.name) return { adapter: null, software: false, reason: found.reason };
    const failed = {
      adapter: found.name,
      software: found.software,
      reason: 'the WebGPU backend of TensorFlow.js failed to start',
    };
    if (!(await tf.setBackend('webgpu'))) return failed;
    await tf.ready();
    return tf.getBackend() === 'webgpu' ? { ...failed, reason: null } : failed;
  } catch (e) {
    return { adapter: null, software: false, reason: `WebGPU failed: ${(e as Error).message}` };
  }
}

/**
 * The `preferred` backend, falling back in the order WebGPU → WASM → CPU when one cannot start.
 * A software WebGPU adapter (SwiftShader) is used when WebGPU is preferred; the page tells the user
 * that WASM is faster there. `threads`: the WASM backend's thread count asked by the page (`?threads=`).
 */
export async function chooseBackend(preferred: BackendName = 'webgpu', threads?: number | null): Promise<BackendInfo> {
  let reason = `the ${preferred === 'cpu' ? 'CPU' : 'WASM'} backend was asked for`;
  if (preferred === 'webgpu') {
    const gpu = await startWebGpu();
    if (gpu.reason === null)
      return { name: 'webgpu', adapter: gpu.adapter, softwareAdapter: gpu.software, fallbackReason: null };
    reason = gpu.reason;
  }
  if (preferred !== 'cpu') {
    const wasm = await startWasm(threads);
    if (!('failure' in wasm))
      return {
        name: 'wasm',
        adapter: null,
        threads: wasm.threads,
        threadsReason: wasm.threadsReason,
        fallbackReason: preferred === 'wasm' ? null : reason,
      };
    reason = `${reason}; ${wasm.failure}`;
  }
  if (!(await tf.setBackend('cpu')))
    throw new Error('none of the WebGPU, WASM and CPU backends of TensorFlow.js could start');
  await tf.ready();
  return { name: 'cpu', adapter: null, fallbackReason: reason };
}
