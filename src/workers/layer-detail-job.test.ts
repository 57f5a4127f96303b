// The worker's layer detail job on a tiny ViT: the mask and threshold are those of the configuration
// (held masks reused, else pruned), structural masks show up as rows and columns, bad requests get
// clear messages, and sensitivity curves come once per method and calibration set.
import { describe, expect, it } from 'vitest';
import { Pruner } from '../engine/eval/pruner';
import { writeSafetensors } from '../engine/io/safetensors';
import { serializeWeights } from '../engine/model/checkpoint';
import { randomHostWeights, tinyVit, TINY_VIT_CONFIG } from '../engine/model/tiny-models';
import { keepCount } from '../engine/pruning/select';
import { ModelSession } from '../engine/session';
import type { LayerDetailRequest, Progress, WorkbenchRecipe } from './api';
import { prunedFor } from './inspect-job';
import { layerDetail, layerSensitivity, quantizationGrid } from './layer-detail-job';

const vit = tinyVit(); // d = 12, 3 heads of 4, FFN 20, 2 blocks
const per = vit.numChannels * vit.imageSize * vit.imageSize;
const images = (n: number, seed: number) =>
  writeSafetensors({
    images: {
      dtype: 'U8',
      shape: [n, vit.numChannels, vit.imageSize, vit.imageSize],
      data: Uint8Array.from({ length: n * per }, (_, i) => (i * 31 + seed * 7) % 256),
    },
    labels: { dtype: 'U8', shape: [n], data: Uint8Array.from({ length: n }, (_, i) => (i + seed) % 5) },
  });
const host = randomHostWeights(vit, 3);
const session = ModelSession.open({
  config: TINY_VIT_CONFIG,
  weights: serializeWeights(host),
  evalSet: images(6, 0),
  calibSet: images(8, 1),
});
const pruner = new Pruner(session);
const calibration = { source: 'train' as const, count: 4, seed: 0 };
const live = () => new AbortController().signal;
const quiet = () => {};
const unstructured = (
  method: 'magnitude' | 'wanda',
  sparsity: number,
  nm: { n: number; m: number } | null = null,
): WorkbenchRecipe => ({ kind: 'unstructured', recipe: { method, sparsity, nm, calibration, seed: 0 } });
const request = (
  role: LayerDetailRequest['role'],
  recipe: WorkbenchRecipe | null,
  method: LayerDetailRequest['method'] = 'magnitude',
): LayerDetailRequest => ({ layer: 1, role, method, calibration, recipe });

describe('layerDetail', () => {
  it('shows the configuration mask with its exact threshold, and keeps the masks it pruned', async () => {
    const recipe = unstructured('magnitude', 0.5);
    const { detail, pruned } = await layerDetail(pruner, request('ffn_in', recipe), [], live(), quiet);
    const w = host.get('vit.encoder.layer.1.intermediate.dense.weight')!.data;
    expect(detail).toMatchObject({
      weight: 'vit.encoder.layer.1.intermediate.dense.weight',
      inFeatures: 12,
      outFeatures: 20,
      kept: keepCount(240, 0.5),
      removed: 240 - keepCount(240, 0.5),
      scoreName: '|w|',
    });
    const kth = [...w].map(Math.abs).sort((a, b) => b - a)[keepCount(240, 0.5) - 1];
    expect(detail.threshold).toMatchObject({ kind: 'single', value: kth });
    expect(detail.mask).toMatchObject({ width: 12, height: 20 });
    expect(detail.blockSparsity).toBeCloseTo(0.5, 2);
    expect(pruned?.key).toBe(JSON.stringify(recipe));
    // Held masks are used as they are (here: a hand-made one), not pruned again.
    const held = {
      ...pruned!,
      result: {
        masks: new Map(pruned!.result!.masks).set(detail.weight, new Uint8Array(240).fill(1)),
        weights: null,
        quantized: null,
      },
    };
    const again = await layerDetail(pruner, request('ffn_in', recipe), [held], live(), quiet);
    expect(again.pruned).toBeNull();
    expect(again.detail.removed).toBe(0);
  });

  it('gives per-row thresholds for Wanda and calls 2:4 mixed', async () => {
    const progress: Progress[] = [];
    const wanda = await layerDetail(pruner, request('q', unstructured('wanda', 0.5), 'wanda'), [], live(), (p) =>
      progress.push(p),
    );
    expect(wanda.detail.threshold).toMatchObject({ kind: 'per-row', rows: 12, mixedRows: 0 });
    expect(wanda.detail.notes.join(' ')).toMatch(/each output row/);
    expect(progress.at(-1)).toEqual({ label: 'Done', fraction: 1 });
    const nm = await layerDetail(
      pruner,
      request('q', unstructured('magnitude', 0.5, { n: 2, m: 4 })),
      [],
      live(),
      quiet,
    );
    expect(nm.detail.threshold.kind).toBe('mixed');
    expect(nm.detail.notes.join(' ')).toMatch(/2:4 keeps the best 2 of every 4/);
  });

  it('shows removed heads as rows of the query and columns of the attention output', async () => {
    const recipe: WorkbenchRecipe = {
      kind: 'structured',
      recipe: { granularity: 'heads', amount: 0.5, scope: 'global', calibration },
    };
    const plan = (await prunedFor(pruner, recipe, [], live())).plan!;
    const known = [{ key: JSON.stringify(recipe), session, plan }];
    const removed = plan.masks.heads![1].flatMap((v, h) => (v === 0 ? [h] : []));
    const q = (await layerDetail(pruner, request('q', recipe), known, live(), quiet)).detail;
    expect(q.removed).toBe(removed.length * 4 * 12);
    for (const h of removed)
      for (let o = 4 * h; o < 4 * h + 4; o++)
        expect([...q.mask.data.slice(o * 12, o * 12 + 12)]).toEqual(Array(12).fill(0));
    const out = (await layerDetail(pruner, request('attn_out', recipe), known, live(), quiet)).detail;
    for (const h of removed) for (let o = 0; o < 12; o++) expect(out.mask.data[o * 12 + 4 * h]).toBe(0);
    expect(out.notes[0]).toMatch(/attention heads/);
  });

  it('gives a quantized linear’s grid: the largest scale’s row and group, its points, the kept weights per code', async () => {
    const quant = { bits: 3, groupSize: 4, symmetric: false, actOrder: false, quantizer: 'rtn' as const };
    const recipe: WorkbenchRecipe = {
      kind: 'unstructured',
      recipe: { method: 'magnitude', sparsity: 0.5, nm: null, quant, calibration, seed: 0 },
    };
    const { detail, pruned } = await layerDetail(pruner, request('ffn_in', recipe), [], live(), quiet);
    const q = pruned!.result!.quantized!.get(detail.weight)!;
    const grid = detail.quantization!;
    // ffn_in: 20 outputs × 12 inputs, groups of 4 columns: 3 per row.
    expect(grid).toMatchObject({ bits: 3, symmetric: false, groupSize: 4, groups: 3 });
    const largest = Math.max(...q.scales);
    expect(grid.scale).toBe(largest);
    expect(q.scales[grid.row * 3 + grid.group]).toBe(largest);
    expect(grid.zero).toBe(q.zeros[grid.row * 3 + grid.group]);
    expect(grid.points).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((c) => largest * (c - grid.zero)));
    // The dequantized weights of that row and group are points of its grid.
    for (let c = 0; c < 12; c++) {
      const k = grid.row * 12 + c;
      if (q.groupIndex[c] === grid.group && q.mask[k])
        expect(Math.min(...grid.points.map((p) => Math.abs(p - q.weights[k])))).toBeLessThan(1e-6 * largest);
    }
    // Shares count the kept weights only: 120 of the 240.
    expect(grid.shares).toHaveLength(8);
    expect(grid.shares.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 12);
    const kept = [...q.mask].filter((v) => v).length;
    expect(kept).toBe(detail.kept);
    expect(grid.shares[q.codes[q.mask.indexOf(1)]]).toBeGreaterThanOrEqual(1 / kept);
    expect(detail.notes.join(' ')).toMatch(/stored as 3-bit codes/);
    // Unquantized, there is no grid.
    const plain = await layerDetail(pruner, request('ffn_in', unstructured('magnitude', 0.5)), [], live(), quiet);
    expect(plain.detail.quantization).toBeNull();
  });

  it('counts codes of kept weights only, and takes the first of equal largest scales', () => {
    const grid = quantizationGrid(
      {
        weights: new Float32Array(4),
        codes: Uint8Array.from([0, 3, 3, 1]),
        mask: Uint8Array.from([1, 1, 0, 1]),
        scales: Float32Array.from([0.5, 2, 2]),
        zeros: Float32Array.from([1, 2, 1]),
        groupIndex: Int32Array.from([0, 1]),
        groups: 1,
        bits: 2,
        symmetric: false,
      },
      0,
    );
    expect(grid).toMatchObject({ row: 1, group: 0, scale: 2, zero: 2, points: [-4, -2, 0, 2] });
    expect(grid.shares).toEqual([1 / 3, 1 / 3, 0, 1 / 3]);
  });

  it('shows the dense model as all kept', async () => {
    const { detail, pruned } = await layerDetail(pruner, request('v', null), [], live(), quiet);
    expect(detail).toMatchObject({
      removed: 0,
      kept: 144,
      blockSparsity: 0,
      threshold: { kind: 'none', reason: 'nothing removed' },
    });
    expect(pruned).toBeNull();
  });

  it('names what is wrong with a bad request', async () => {
    await expect(layerDetail(pruner, { ...request('q', null), layer: 2 }, [], live(), quiet)).rejects.toThrow(
      'block 2 does not exist: the model has blocks 0 to 1',
    );
    await expect(layerDetail(pruner, request('qkv', null), [], live(), quiet)).rejects.toThrow(
      'block 1 has no "qkv" layer (it has q, k, v, attn_out, ffn_in, ffn_out)',
    );
    await expect(layerDetail(pruner, request('q', null, 'obs' as never), [], live(), quiet)).rejects.toThrow(
      /unknown method "obs"/,
    );
  });
});

describe('layerSensitivity', () => {
  it('gives every block a curve from the dense loss, once per method and calibration set', async () => {
    const first = await layerSensitivity(pruner, { method: 'sparsegpt', calibration }, live(), quiet);
    expect(first.method).toBe('wanda');
    expect(first.curves.map((c) => c.layer)).toEqual([0, 1]);
    expect(first.curves[0].sparsities).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(first.curves[1].losses[0]).toBe(first.curves[0].losses[0]);
    expect(first.calibration).toBe('4 train images (seed 0)');
    const progress: Progress[] = [];
    const again = await layerSensitivity(pruner, { method: 'sparsegpt', calibration }, live(), (p) => progress.push(p));
    expect(again.curves).toBe(first.curves);
    expect(progress.some((p) => /Pruning each block/.test(p.label))).toBe(false);
  });

  it('stops when cancelled part-way', async () => {
    const c = new AbortController();
    const request = { method: 'magnitude' as const, calibration: { ...calibration, seed: 9 } };
    const stopped = layerSensitivity(pruner, request, c.signal, (p) => {
      if (/Pruning each block/.test(p.label)) c.abort();
    });
    await expect(stopped).rejects.toThrow();
    // Nothing half-made was kept: the next call measures every point.
    const progress: Progress[] = [];
    const full = await layerSensitivity(pruner, request, live(), (p) => progress.push(p));
    expect(full.curves.every((k) => k.losses.length === 10)).toBe(true);
    expect(progress.filter((p) => /Pruning each block/.test(p.label))).toHaveLength(18);
  });
});
