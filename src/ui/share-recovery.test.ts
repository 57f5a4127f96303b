// The recovery in the share link: it round-trips with every setting and the seed, is written as v3
// (which pages before it refuse as newer), missing settings take their mode's defaults, links made
// before it open with none, and bad values are refused with the field named.
import { describe, expect, it } from 'vitest';
import { defaultRecoveryChoice, defaultShareState, encodeShareState, parseShareHash } from './share';

const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

describe('a recovery in the link', () => {
  it('round-trips every setting and the seed, as v3', () => {
    for (const recovery of [
      defaultRecoveryChoice(),
      { ...defaultRecoveryChoice('lora', 40), rank: 4, alpha: 8, seed: 12345, data: 'train' as const },
      { ...defaultRecoveryChoice('distill', 7), temperature: 3.5, batchSize: 2, learningRate: 2e-5 },
    ]) {
      const state = { ...defaultShareState('gpt-bytes'), sparsity: 0.5, recovery };
      const hash = encodeShareState(state);
      expect(hash).toMatch(/^#v3\./);
      expect(parseShareHash(hash)).toEqual({ kind: 'ok', state });
    }
    expect(encodeShareState({ ...defaultShareState(), sparsity: 0.5 })).toMatch(/^#v1\./);
  });

  it('links made before recovery open with none', () => {
    for (const hash of [`#v1.${b64({ model: 'vit-fashion', sparsity: 0.5 })}`, `#v2.${b64({ model: 'gpt-bytes' })}`]) {
      const r = parseShareHash(hash);
      expect(r.kind === 'ok' && r.state.recovery).toBeNull();
    }
  });

  it('a setting the link leaves out takes its mode’s default', () => {
    const r = parseShareHash(`#v3.${b64({ model: 'vit-fashion', recovery: { mode: 'lora', steps: 50 } })}`);
    expect(r.kind === 'ok' && r.state.recovery).toEqual(defaultRecoveryChoice('lora', 50));
    expect(defaultRecoveryChoice('lora', 50)).toMatchObject({ learningRate: 1e-3, warmupSteps: 5 });
  });

  it('refuses bad values with the field named', () => {
    const bad: [unknown, RegExp][] = [
      [{ mode: 'prune-more' }, /recovery\.mode/],
      [{ steps: 0 }, /recovery\.steps/],
      [{ steps: 2.5 }, /recovery\.steps/],
      [{ learningRate: 0 }, /recovery\.learningRate/],
      [{ steps: 10, warmupSteps: 11 }, /recovery\.warmupSteps/],
      [{ batchSize: 1000 }, /recovery\.batchSize/],
      [{ data: 'elsewhere' }, /recovery\.data/],
      [{ rank: 0 }, /recovery\.rank/],
      [{ seed: -1 }, /recovery\.seed/],
      [{ teacher: {} }, /recovery\.teacher/],
      ['finetune', /"recovery" must be null or an object/],
    ];
    for (const [recovery, message] of bad) {
      const r = parseShareHash(`#v3.${b64({ model: 'vit-fashion', recovery })}`);
      expect(r.kind, JSON.stringify(recovery)).toBe('error');
      expect(r.kind === 'error' && r.message).toMatch(message);
    }
  });
});
