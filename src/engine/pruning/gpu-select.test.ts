// Pruning on TensorFlow.js's 'webgpu' backend (Dawn on SwiftShader here) selects on our kernels
// (gpu-select.ts) when asked to on a software adapter: the masks must be the CPU backend's, bit for
// bit, for every scoring method and scope; a slider's next sparsity reuses the uploaded scores; a
// GPU failure or a lost device falls back to the CPU. The CPU masks are all made first, since pruning off WebGPU frees the GPU's cache.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerNodeTfjsWebGpu } from '../gpu/node-tfjs-webgpu';
import { tfjsWebGpu } from '../gpu/tfjs-device';
import type { HostTensor } from '../model/checkpoint';
import type { ModelConfig } from '../model/config';
import { randomArray, randomHostWeights, tinyGpt2, tinyVit } from '../model/tiny-models';
import { resetWebGpuBackend } from '../gpu/tfjs-device';
import {
  prunableLinears,
  pruneUnstructured,
  selectOnSoftwareAdapters,
  type PruningStats,
  type UnstructuredRecipe,
} from './unstructured';

interface Model {
  name: string;
  config: ModelConfig;
  host: Map<string, HostTensor>;
  stats: PruningStats;
}

/** Input norms with zero columns (whole columns of tied Wanda scores) and gradients, made up. */
function madeUpStats(config: ModelConfig, seed: number): PruningStats {
  const specs = prunableLinears(config);
  return {
    sqSum: new Map(
      specs.map((s, i) => [s.weight, randomArray(s.inFeatures, seed + i).map((v, j) => (j % 5 === 0 ? 0 : v * v))]),
    ),
    grads: new Map(specs.map((s, i) => [s.weight, randomArray(s.inFeatures * s.outFeatures, seed + 100 + i)])),
  };
}

function model(name: string, config: ModelConfig, host: Map<string, HostTensor>): Model {
  return { name, config, host, stats: madeUpStats(config, 7) };
}

const gpt = tinyGpt2(); // Conv1D weights: masks go back through a transpose
const gptHost = randomHostWeights(gpt, 3);
const MODELS = [
  model('gpt2', gpt, gptHost),
  // Weights on a grid of 1/8: magnitudes tie heavily, within and across layers.
  model(
    'gpt2 tied',
    gpt,
    new Map([...gptHost].map(([n, t]) => [n, { shape: t.shape, data: t.data.map((v) => Math.round(v * 8) / 8) }])),
  ),
  model('vit', tinyVit(), randomHostWeights(tinyVit(), 4)), // [out, in] weights; 12 columns leave 4:8 a short last group
];

// Per-row selection is slow on SwiftShader (a workgroup per row): fewer of those.
const RECIPES: UnstructuredRecipe[] = [
  ...(['global', 'layer'] as const).flatMap((scope) =>
    [0, 0.35, 0.5, 0.9].map((sparsity) => ({ method: 'magnitude' as const, sparsity, scope })),
  ),
  { method: 'magnitude', sparsity: 0.5, scope: 'layer', blockSparsity: [1, 0.2] },
  { method: 'magnitude', sparsity: 0.35, scope: 'row' },
  { method: 'magnitude', sparsity: 0.5, scope: 'row', blockSparsity: [0, 1] },
  { method: 'random', sparsity: 0.6, seed: 5 },
  { method: 'random', sparsity: 0.3, scope: 'global' },
  { method: 'wanda', sparsity: 0.5 },
  { method: 'wanda', sparsity: 0.7, scope: 'global' },
  { method: 'taylor', sparsity: 0.4 },
  { method: 'magnitude', sparsity: 0.5, nm: { n: 2, m: 4 } },
  { method: 'magnitude', sparsity: 0.5, nm: { n: 4, m: 8 } },
  { method: 'wanda', sparsity: 0.5, nm: { n: 2, m: 4 } },
];

const CASES = MODELS.flatMap((m) =>
  RECIPES.map((recipe) => ({ model: m, recipe, label: `${m.name} ${JSON.stringify(recipe)}` })),
);
const cpuMasks = new Map<string, Map<string, Uint8Array>>();

const prune = (m: Model, recipe: UnstructuredRecipe) =>
  pruneUnstructured(m.config, m.host, recipe, null, m.stats).then((r) => r.masks);

function expectSameMasks(got: Map<string, Uint8Array>, want: Map<string, Uint8Array>, label: string): void {
  expect([...got.keys()], label).toEqual([...want.keys()]);
  for (const [name, w] of want) {
    const g = got.get(name)!;
    const differs = g.length !== w.length ? 0 : g.findIndex((v, i) => v !== w[i]);
    expect(differs, `${label} ${name}: first differing entry`).toBe(-1);
  }
}

/** TensorFlow.js's device, with its buffer creations counted. */
function watchedDevice() {
  const device = tfjsWebGpu()!.device;
  return { device, created: vi.spyOn(device, 'createBuffer') };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  for (const c of CASES) cpuMasks.set(c.label, await prune(c.model, c.recipe));
  expect(await registerNodeTfjsWebGpu()).toBe(true);
  expect(await tf.setBackend('webgpu')).toBe(true);
  selectOnSoftwareAdapters(true); // Dawn runs on SwiftShader here
});

afterAll(async () => {
  vi.restoreAllMocks();
  selectOnSoftwareAdapters(false);
  await tf.setBackend('cpu');
});

describe('selection on the WebGPU backend', () => {
  it('gives the CPU backend’s masks for every method, scope, N:M pattern and sparsity', async () => {
    const warn = vi.spyOn(console, 'warn');
    const { created } = watchedDevice();
    for (const c of CASES) expectSameMasks(await prune(c.model, c.recipe), cpuMasks.get(c.label)!, c.label);
    expect(warn).not.toHaveBeenCalled(); // a fallback to the CPU would pass the comparison too
    expect(created).toHaveBeenCalled();
    vi.restoreAllMocks();
  });

  it('uploads the scores once: another sparsity costs one buffer (the read-back)', async () => {
    const [m] = MODELS;
    await prune(m, { method: 'magnitude', sparsity: 0.1, scope: 'global' });
    const { created } = watchedDevice();
    for (const c of CASES.filter(
      (c) => c.model === m && c.recipe.method === 'magnitude' && c.recipe.scope === 'global',
    )) {
      created.mockClear();
      expectSameMasks(await prune(m, c.recipe), cpuMasks.get(c.label)!, c.label);
      expect(created, c.label).toHaveBeenCalledTimes(1);
    }
    // Off WebGPU the uploaded scores are freed; back on it they are uploaded again.
    await tf.setBackend('cpu');
    await prune(m, { method: 'magnitude', sparsity: 0.2, scope: 'global' });
    await tf.setBackend('webgpu');
    created.mockClear();
    await prune(m, { method: 'magnitude', sparsity: 0.2, scope: 'global' });
    expect(created.mock.calls.length).toBeGreaterThan(1);
    vi.restoreAllMocks();
  });

  it('leaves a software adapter to the CPU unless asked', async () => {
    const c = CASES.find((c) => c.recipe.scope === 'global')!;
    selectOnSoftwareAdapters(false);
    const { created } = watchedDevice();
    expectSameMasks(await prune(c.model, c.recipe), cpuMasks.get(c.label)!, c.label);
    expect(created).not.toHaveBeenCalled();
    selectOnSoftwareAdapters(true);
    vi.restoreAllMocks();
  });

  it('falls back to the CPU when a GPU call throws, warns once, and recovers on the next call', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { created } = watchedDevice();
    const c = CASES.find((c) => c.recipe.method === 'wanda' && !c.recipe.nm)!;
    for (let i = 0; i < 2; i++) {
      created.mockImplementationOnce(() => {
        throw new Error('made-up failure');
      });
      expectSameMasks(await prune(c.model, c.recipe), cpuMasks.get(c.label)!, c.label);
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/made-up failure/);
    created.mockClear();
    expectSameMasks(await prune(c.model, c.recipe), cpuMasks.get(c.label)!, c.label);
    expect(created.mock.calls.length).toBeGreaterThan(1); // the failed call kept nothing: uploaded again
    vi.restoreAllMocks();
  });

  it('falls back while the device is lost, then selects on the device TensorFlow.js starts anew', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const c = CASES.find((c) => c.model.name === 'vit' && c.recipe.scope === 'layer')!;
    const old = tfjsWebGpu()!.device;
    old.destroy();
    await old.lost;
    expectSameMasks(await prune(c.model, c.recipe), cpuMasks.get(c.label)!, c.label);
    resetWebGpuBackend(); // what the worker does on a loss (workers/device-loss.ts)
    expect(await tf.setBackend('webgpu')).toBe(true);
    const { device, created } = watchedDevice();
    expect(device).not.toBe(old);
    expectSameMasks(await prune(c.model, c.recipe), cpuMasks.get(c.label)!, c.label);
    expect(created).toHaveBeenCalled();
  });
});
