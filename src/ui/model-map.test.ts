// The model map's data: rows and cells from a summary, the worker's answers and measured facts laid on.
import { describe, expect, it } from 'vitest';
import {
  ffnSize,
  headDim,
  hiddenSize,
  numHeads,
  numKvHeads,
  numLayers,
  sequenceLength,
  type ModelConfig,
} from '../engine/model/config';
import { familyOf } from '../engine/pruning/catalogue';
import { costReport } from '../engine/model/cost';
import { tinyGpt2, tinyLlama, tinyVit } from '../engine/model/tiny-models';
import type { ModelSummary } from '../workers/client';
import { cellTip, colourValue, modelMapData, overlayMap } from './model-map';

function summaryOf(c: ModelConfig): ModelSummary {
  return {
    architecture: c.kind === 'gpt2' ? 'GPT2LMHeadModel' : 'ViTForImageClassification',
    kind: c.kind,
    family: familyOf(c.kind),
    layers: numLayers(c),
    heads: numHeads(c),
    kvHeads: numKvHeads(c),
    headDim: headDim(c),
    positions: c.kind === 'llama' ? 'rotary' : 'learned',
    tiedHead: c.kind === 'vit' ? null : c.kind === 'gpt2' || c.tieWordEmbeddings,
    hidden: hiddenSize(c),
    ffn: ffnSize(c),
    sequence: sequenceLength(c),
    evalWindow: sequenceLength(c),
    vocabSize: c.kind === 'gpt2' ? c.vocabSize : null,
    labels: c.kind === 'vit' ? c.labels : null,
    cost: costReport(c),
    evalSet: null,
    calibSet: true,
    ignoredTensors: [],
  };
}

describe('modelMapData', () => {
  for (const [name, config] of [
    ['vit', tinyVit()],
    ['gpt2', tinyGpt2()],
    ['llama', tinyLlama()],
  ] as const) {
    it(`${name}: embeddings, one row per block with its heads and FFN, the output head`, () => {
      const s = summaryOf(config);
      const d = modelMapData(s);
      expect(d.rows.map((r) => r.kind)).toEqual(['input', ...Array(s.layers).fill('block'), 'output']);
      for (const r of d.rows.filter((r) => r.kind === 'block')) {
        expect(r.cells.filter((c) => c.kind === 'head')).toHaveLength(s.heads);
        expect(r.cells.filter((c) => c.kind === 'ffn')).toHaveLength(1);
      }
      // Rows + layer norms account for every parameter; rows account for every FLOP.
      expect(d.rows.reduce((a, r) => a + r.params, 0) + d.otherParams).toBe(s.cost.params);
      expect(d.rows.reduce((a, r) => a + r.flops, 0)).toBeCloseTo(s.cost.flops, 0);
      expect(d.rows.reduce((a, r) => a + r.share, 0)).toBeCloseTo(1, 9);
      // Cells split their block's FLOPs.
      const b = d.rows[1];
      expect(b.cells.reduce((a, c) => a + c.flops, 0)).toBeCloseTo(b.flops, 0);
      // Grouped-query attention: each query head names its key/value group.
      const groups = b.cells.filter((c) => c.kind === 'head').map((c) => c.group);
      expect(groups).toEqual(s.kvHeads < s.heads ? [0, 0, 1, 1] : groups.map(() => undefined));
      expect(d.maxCellShare).toBe(Math.max(...d.rows.flatMap((r) => r.cells.map((c) => c.share))));
    });
  }
});

describe('overlayMap', () => {
  // tiny GPT-2: 2 blocks of 2 heads.
  const data = modelMapData(summaryOf(tinyGpt2()));
  const importance = {
    heads: [
      [2, 4],
      [1, 0],
    ],
    ffn: [10, 40],
    calibration: '4 windows',
  };
  const pruned = {
    heads: [
      [0.5, 0],
      [1, 0.25],
    ],
    ffn: [0.1, 0.9],
    blocks: [0.3, 0.6],
  };
  const facts = [
    { reached: 0.3, target: null, outliers: null },
    { reached: 0.6, target: 0.65, outliers: 2.5 },
  ];
  const block = (d: typeof data, l: number) => d.rows.find((r) => r.layer === l)!;

  it('puts each head and FFN its own score, relative to the largest of its kind, its pruned share, each block its facts', () => {
    const d = overlayMap(data, importance, pruned, facts);
    const b1 = block(d, 1);
    expect(b1.cells.map((c) => c.importance?.relative)).toEqual([0.25, 0, 1]);
    expect(block(d, 0).cells.map((c) => c.importance?.score)).toEqual([2, 4, 10]);
    expect(b1.cells.map((c) => c.pruned)).toEqual([1, 0.25, 0.9]);
    expect(d.rows.map((r) => r.pruned)).toEqual([null, ...facts, null]);
    // The ends have no importance and are never pruned.
    const ends = [d.rows[0], d.rows[d.rows.length - 1]].flatMap((r) => r.cells);
    expect(ends.every((c) => c.importance === null && c.pruned === 0)).toBe(true);
  });

  it('colours by the chosen value; a dense configuration reads 0% pruned, an unscored cell has no colour', () => {
    const plain = overlayMap(data, null, null, null);
    const head = block(plain, 0).cells[0];
    expect(colourValue(head, 'flops')).toBe(head.share);
    expect(colourValue(head, 'importance')).toBeNull();
    expect(colourValue(head, 'pruned')).toBe(0);
    const d = overlayMap(data, importance, pruned, facts);
    expect(colourValue(block(d, 0).cells[1], 'importance')).toBe(1);
    expect(colourValue(block(d, 1).cells[2], 'pruned')).toBe(0.9);
    expect(colourValue(d.rows[0].cells[0], 'importance')).toBeNull();
  });

  it('tooltips give the numbers', () => {
    const d = overlayMap(data, importance, pruned, facts);
    expect(cellTip(block(d, 1).cells[0])).toMatch(
      /^Block 2, attention head 1: 8 dimensions\. .*FLOPs\. Importance: head output norm 1\.00, 25% of the largest head's\. 100\.0% pruned\.$/,
    );
    expect(cellTip(block(d, 0).cells[2])).toMatch(
      /Importance: sum of neuron scores 10\.0, 25% of the largest FFN's\. 10\.0% pruned\.$/,
    );
    expect(cellTip(d.rows[0].cells[0])).toMatch(/Never pruned\.$/);
    expect(cellTip(block(overlayMap(data, null, null, null), 0).cells[0])).not.toMatch(/Importance|pruned/);
  });
});
