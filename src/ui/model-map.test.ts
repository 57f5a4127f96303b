import { describe, expect, it } from 'vitest';
import { ffnSize, hiddenSize, numHeads, numLayers, sequenceLength, type ModelConfig } from '../engine/model/config';
import { costReport } from '../engine/model/cost';
import { tinyGpt2, tinyVit } from '../engine/model/tiny-models';
import type { ModelSummary } from '../workers/client';
import { modelMapData } from './model-map';

function summaryOf(c: ModelConfig): ModelSummary {
  return {
    architecture: c.kind === 'gpt2' ? 'GPT2LMHeadModel' : 'ViTForImageClassification',
    kind: c.kind,
    layers: numLayers(c),
    heads: numHeads(c),
    hidden: hiddenSize(c),
    ffn: ffnSize(c),
    sequence: sequenceLength(c),
    vocabSize: c.kind === 'gpt2' ? c.vocabSize : null,
    labels: c.kind === 'vit' ? c.labels : null,
    cost: costReport(c),
    evalSet: null,
    ignoredTensors: [],
  };
}

describe('modelMapData', () => {
  for (const [name, config] of [['vit', tinyVit()], ['gpt2', tinyGpt2()]] as const) {
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
      expect(d.maxCellShare).toBe(Math.max(...d.rows.flatMap((r) => r.cells.map((c) => c.share))));
    });
  }
});
