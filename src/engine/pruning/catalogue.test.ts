// The catalogue: one entry per id, every paper cited completely, and the one check of what can be
// combined refusing exactly what the engine cannot honour, naming both choices.
import { describe, expect, it } from 'vitest';
import {
  ALLOCATIONS,
  CALIBRATION_MODES,
  CALIBRATION_SOURCES,
  type Choices,
  citeShort,
  defaultCalibrationMode,
  GRANULARITIES,
  METHODS,
  needsOf,
  PAPERS,
  refusal,
  SCOPES,
  STRUCTURED_SCORES,
  scoresFor,
} from './catalogue';

describe('catalogue entries', () => {
  it('ids are unique within each list (structured scores within their granularity)', () => {
    for (const list of [METHODS, GRANULARITIES, ALLOCATIONS, SCOPES, CALIBRATION_SOURCES, CALIBRATION_MODES]) {
      const ids = list.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    const keys = STRUCTURED_SCORES.map((s) => `${s.granularity}/${s.id}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('cites every paper with authors, title, year, venue and an arXiv id', () => {
    for (const p of Object.values(PAPERS)) {
      expect(p.authors.length).toBeGreaterThan(0);
      expect(p.title.length).toBeGreaterThan(10);
      expect(p.year).toBeGreaterThanOrEqual(2015);
      expect(p.venue).toMatch(/^(arXiv|NeurIPS|ICLR|ICML|CVPR|ACL|MLSys)$/);
      expect(p.arxiv).toMatch(/^\d{4}\.\d{4,5}$/);
    }
    expect(citeShort(PAPERS.sun2024)).toBe('Sun et al., ICLR 2024');
    expect(citeShort(PAPERS.frantar2023)).toBe('Frantar & Alistarh, ICML 2023');
  });

  it('says what of the paper each entry implements', () => {
    for (const e of [...METHODS, ...GRANULARITIES, ...STRUCTURED_SCORES, ...ALLOCATIONS]) {
      expect(e.implements.length, e.id).toBeGreaterThan(10);
      expect(e.summary.length, e.id).toBeGreaterThan(10);
    }
  });

  it('cites Taylor’s accumulated score to Molchanov et al. 2019 and the mean-gradient one to LLM-Pruner', () => {
    expect(METHODS.find((m) => m.id === 'taylor')?.paper).toBe(PAPERS.molchanov2019);
    expect(METHODS.find((m) => m.id === 'taylor-mean')?.paper).toBe(PAPERS.ma2023);
  });

  it('gives each family its token scores: CLS for ViT, last query (default) and column sums for the LM', () => {
    expect(scoresFor('tokens', 'image-classifier').map((s) => s.id)).toEqual(['cls']);
    expect(scoresFor('tokens', 'causal-lm').map((s) => s.id)).toEqual(['last-query', 'column-sum']);
  });

  it('calibrates Wanda sequentially on language models and in one shot on ViT; SparseGPT sequentially on both', () => {
    expect(defaultCalibrationMode('wanda', 'causal-lm')).toBe('sequential');
    expect(defaultCalibrationMode('wanda', 'image-classifier')).toBe('one-shot');
    expect(defaultCalibrationMode('sparsegpt', 'image-classifier')).toBe('sequential');
    expect(defaultCalibrationMode('magnitude', 'causal-lm')).toBeNull();
    expect(defaultCalibrationMode('wanda', 'causal-lm', 'global')).toBe('one-shot');
  });
});

describe('refusal', () => {
  const lm = (c: Omit<Choices, 'family'>): Choices => ({ family: 'causal-lm', ...c });

  it('accepts every method at its own default choices', () => {
    for (const m of METHODS) expect(refusal(lm({ granularity: 'unstructured', method: m.id }))).toBeNull();
    for (const m of METHODS) expect(refusal(lm({ granularity: 'nm', method: m.id }))).toBeNull();
  });

  it('refuses a global scope with a per-block allocation, naming both', () => {
    for (const allocation of ['owl', 'sensitivity'] as const) {
      const why = refusal(lm({ granularity: 'unstructured', method: 'magnitude', scope: 'global', allocation }));
      expect(why).toContain('global');
      expect(why).toContain(allocation === 'owl' ? 'OWL' : 'sensitivity');
    }
    expect(refusal(lm({ granularity: 'unstructured', method: 'magnitude', scope: 'global' }))).toBeNull();
    expect(refusal(lm({ granularity: 'unstructured', method: 'wanda', allocation: 'owl' }))).toBeNull();
  });

  it('refuses SparseGPT with any scope but its per-layer one', () => {
    for (const scope of ['row', 'global'] as const) {
      const why = refusal(lm({ granularity: 'unstructured', method: 'sparsegpt', scope }));
      expect(why).toContain('SparseGPT');
      expect(why).toContain(scope === 'row' ? 'per output row' : 'global');
    }
    expect(refusal(lm({ granularity: 'unstructured', method: 'sparsegpt', scope: 'layer' }))).toBeNull();
  });

  it('refuses a scope or an allocation with N:M, and per-block sparsity with N:M or a global scope', () => {
    expect(refusal(lm({ granularity: 'nm', method: 'wanda', scope: 'layer' }))).toContain('2:4');
    expect(refusal(lm({ granularity: 'nm', method: 'wanda', allocation: 'owl' }))).toContain('OWL');
    expect(refusal(lm({ granularity: 'nm', method: 'wanda', perBlock: true }))).toContain('per-block');
    expect(refusal(lm({ granularity: 'unstructured', method: 'wanda', scope: 'global', perBlock: true }))).toContain(
      'global',
    );
    expect(refusal(lm({ granularity: 'unstructured', method: 'wanda', allocation: 'owl', perBlock: true }))).toContain(
      'OWL',
    );
  });

  it('refuses a calibration mode for methods that read no activations', () => {
    expect(refusal(lm({ granularity: 'unstructured', method: 'taylor', calibrationMode: 'sequential' }))).toContain(
      'Taylor',
    );
    expect(refusal(lm({ granularity: 'unstructured', method: 'magnitude', calibrationMode: 'one-shot' }))).toContain(
      'Magnitude',
    );
    expect(refusal(lm({ granularity: 'unstructured', method: 'wanda', calibrationMode: 'one-shot' }))).toBeNull();
    expect(refusal(lm({ granularity: 'unstructured', method: 'sparsegpt', calibrationMode: 'one-shot' }))).toBeNull();
    const why = refusal(
      lm({ granularity: 'unstructured', method: 'wanda', scope: 'global', calibrationMode: 'sequential' }),
    );
    expect(why).toContain('global');
    expect(why).toContain('sequential');
  });

  it('refuses weight-pruning choices for structured granularities, and scores of another granularity or family', () => {
    expect(refusal(lm({ granularity: 'heads', method: 'wanda' }))).toContain('Attention heads');
    expect(refusal(lm({ granularity: 'heads', allocation: 'owl' }))).toContain('OWL');
    expect(refusal(lm({ granularity: 'blocks', scope: 'global' }))).toContain('Blocks');
    expect(refusal(lm({ granularity: 'heads', scope: 'row' }))).toContain('per output row');
    expect(refusal(lm({ granularity: 'heads', scope: 'global' }))).toBeNull();
    expect(refusal(lm({ granularity: 'tokens', score: 'cls' }))).toContain('image models');
    expect(refusal({ family: 'image-classifier', granularity: 'tokens', score: 'last-query' })).toContain(
      'language models',
    );
    expect(refusal(lm({ granularity: 'blocks', score: 'entropy' }))).toContain('Blocks');
    expect(refusal(lm({ granularity: 'unstructured', score: 'norm' }))).toContain('Unstructured');
  });
});

describe('needsOf', () => {
  it('asks for calibration data and gradients only where a choice reads them', () => {
    expect(needsOf({ family: 'causal-lm', granularity: 'unstructured', method: 'magnitude' })).toEqual({
      calibration: false,
      gradients: false,
    });
    expect(
      needsOf({ family: 'causal-lm', granularity: 'unstructured', method: 'magnitude', allocation: 'owl' }),
    ).toEqual({
      calibration: true,
      gradients: false,
    });
    expect(needsOf({ family: 'causal-lm', granularity: 'unstructured', method: 'taylor' }).gradients).toBe(true);
    expect(needsOf({ family: 'image-classifier', granularity: 'heads', score: 'taylor' }).gradients).toBe(true);
    expect(needsOf({ family: 'image-classifier', granularity: 'tokens' }).calibration).toBe(false);
  });
});
