// The controls' options against the catalogue, without React: which controls show, which options
// the choices before them rule out with the catalogue's reason, and resetting what an earlier
// choice rules out.
import { describe, expect, it } from 'vitest';
import { describeEntry, METHODS, QUANTIZERS, refusal } from '../engine/pruning/catalogue';
import { choiceFor, choicesOf, type Control, controlsFor, fitChoices, sentence } from './choices';
import { defaultShareState, type ShareState } from './share';

const config = (patch: Partial<ShareState> = {}): ShareState => ({ ...defaultShareState(), ...patch });
const option = (c: Control | null, id: string) => c?.options.find((o) => o.id === id);
const disabledIds = (c: Control | null) => c?.options.filter((o) => o.disabled).map((o) => o.id);

describe('controlsFor', () => {
  it('lists the catalogue’s entries with their labels and papers', () => {
    const c = controlsFor(config(), 'image-classifier');
    expect(c.method?.options.map((o) => o.id)).toEqual(METHODS.map((m) => m.id));
    expect(option(c.method, 'wanda')).toMatchObject({ label: 'Wanda', disabled: false, reason: null });
    expect(option(c.method, 'wanda')?.title).toContain('Sun et al., ICLR 2024');
    expect(c.method?.help).toMatch(
      /^Magnitude: Drops the weights of smallest \|w\|\. "Learning both Weights.*arXiv:1506\.02626\)\. Implemented: /,
    );
    expect(c.calibSource.options.map((o) => o.id)).toEqual(['train', 'held-out', 'random']);
    expect(c.granularity.options.map((o) => o.label)).toContain('2:4 (N:M)');
  });

  it('a model read a block at a time rules out what ranks across the whole model, saying so', () => {
    const whole = controlsFor(config(), 'causal-lm');
    const streamed = controlsFor(config(), 'causal-lm', undefined, true);
    expect(disabledIds(whole.granularity)).toEqual([]);
    expect(disabledIds(streamed.granularity)).toEqual(['heads', 'neurons', 'blocks', 'sublayers', 'tokens']);
    expect(disabledIds(streamed.method)).toEqual(['taylor', 'taylor-mean']);
    expect(option(streamed.method, 'taylor')?.reason).toBe(
      'read a block at a time: “Taylor” needs gradients through the whole model',
    );
    expect(disabledIds(streamed.scope)).toEqual(['global']);
    expect(disabledIds(streamed.allocation)).toEqual(['owl', 'sensitivity', 'evopress']);
    expect(option(streamed.granularity, 'nm')?.disabled).toBe(false);
  });

  it('the default calibration source is the data the model has: its training data, else held-out, else random', () => {
    const c = controlsFor(config(), 'causal-lm', { train: false, heldOut: true });
    expect(c.calibSource.value).toBe('held-out');
    expect(c.calibSource.fallback).toBe('held-out');
    expect(option(c.calibSource, 'train')).toMatchObject({
      disabled: true,
      reason: 'this model came without training data (calib.safetensors)',
    });
    expect(choiceFor(c.calibSource, 'held-out')).toBe('default');
    const bare = controlsFor(config(), 'causal-lm', { train: false, heldOut: false });
    expect(bare.calibSource.value).toBe('random');
    expect(disabledIds(bare.calibSource)).toEqual(['train', 'held-out']);
    // A source picked by name stays picked (a link says so), shown ruled out where the model lacks it.
    expect(
      controlsFor(config({ calibSource: 'train' }), 'causal-lm', { train: false, heldOut: true }).calibSource.value,
    ).toBe('train');
    expect(controlsFor(config(), 'causal-lm').calibSource.value).toBe('train');
  });

  it('the global scope rules out the per-block allocations, with the catalogue’s reason as title and note', () => {
    const c = controlsFor(config({ scope: 'global' }), 'image-classifier');
    expect(disabledIds(c.allocation)).toEqual(['owl', 'sensitivity', 'evopress']);
    const owl = option(c.allocation, 'owl')!;
    expect(owl.reason).toBe(
      refusal({
        family: 'image-classifier',
        granularity: 'unstructured',
        method: 'magnitude',
        scope: 'global',
        allocation: 'owl',
      }),
    );
    expect(owl.title).toBe(owl.reason);
    expect(c.allocation?.notes[0]).toMatch(/^A “global” scope sets one threshold for all blocks; the “OWL”.*\.$/);
    expect(c.perBlock).toMatch(/per-block sparsity does not apply/);
    expect(controlsFor(config(), 'image-classifier').allocation?.notes).toEqual([]);
  });

  it('scope follows the method: SparseGPT selects per layer only; the default shows as the method’s own', () => {
    const sparsegpt = controlsFor(config({ method: 'sparsegpt' }), 'causal-lm');
    expect(disabledIds(sparsegpt.scope)).toEqual(['row', 'global']);
    expect(sparsegpt.scope?.notes).toHaveLength(2);
    const wanda = controlsFor(config({ method: 'wanda' }), 'causal-lm');
    expect(wanda.scope).toMatchObject({ value: 'row', fallback: 'row' });
    expect(choiceFor(wanda.scope!, 'row')).toBe('default');
    expect(choiceFor(wanda.scope!, 'global')).toBe('global');
  });

  it('the calibration mode shows for methods that have one, its default by family', () => {
    expect(controlsFor(config({ method: 'magnitude' }), 'image-classifier').calibMode).toBeNull();
    expect(controlsFor(config({ method: 'wanda' }), 'image-classifier').calibMode).toMatchObject({ value: 'one-shot' });
    expect(controlsFor(config({ method: 'wanda' }), 'causal-lm').calibMode).toMatchObject({ value: 'sequential' });
    expect(controlsFor(config({ method: 'wanda', calibMode: 'sequential' }), 'image-classifier').calibMode?.value).toBe(
      'sequential',
    );
  });

  it('2:4 hides the scope and the allocation; structured pruning shows its score for the family', () => {
    const nm = controlsFor(config({ granularity: 'nm' }), 'image-classifier');
    expect(nm.scope).toBeNull();
    expect(nm.allocation).toBeNull();
    expect(nm.perBlock).toMatch(/2:4/);
    const heads = controlsFor(config({ granularity: 'heads' }), 'image-classifier');
    expect(heads.method).toBeNull();
    expect(heads.score?.options.map((o) => o.id)).toEqual(['norm', 'taylor', 'entropy']);
    expect(heads.scope?.options.map((o) => o.id)).toEqual(['layer', 'global']);
    expect(heads.allocation).toBeNull();
    expect(controlsFor(config({ granularity: 'blocks' }), 'image-classifier').scope).toBeNull();
    expect(controlsFor(config({ granularity: 'tokens' }), 'image-classifier').score?.options.map((o) => o.id)).toEqual([
      'cls',
    ]);
    expect(controlsFor(config({ granularity: 'tokens' }), 'causal-lm').score).toMatchObject({
      value: 'last-query',
      options: [{ id: 'last-query' }, { id: 'column-sum' }],
    });
    expect(controlsFor(config({ granularity: 'sublayers' }), 'causal-lm').score?.value).toBe('finercut');
  });

  it('per-block values set by hand rule out the allocations that split the sparsity', () => {
    const c = controlsFor(config({ layerSparsity: [0.1, 0.2, 0.3, 0.4] }), 'image-classifier');
    expect(disabledIds(c.allocation)).toEqual(['owl', 'sensitivity', 'evopress']);
    expect(option(c.allocation, 'owl')?.reason).toMatch(/set by hand replace the allocation/);
    expect(c.perBlock).toBeNull();
  });
});

describe('quantization controls', () => {
  it('show for weight pruning only, their options from the catalogue, the quantizer’s paper in its title', () => {
    for (const granularity of ['unstructured', 'nm'] as const) {
      const q = controlsFor(config({ granularity }), 'causal-lm').quant!;
      expect(q.bits.options.map((o) => o.id)).toEqual(['off', '8', '4', '3']);
      expect(q.bits.value).toBe('off');
      expect(q.groupSize.options.map((o) => o.label)).toEqual([
        'per channel',
        '128 columns',
        '64 columns',
        '32 columns',
      ]);
      expect(q.quantizer.options.map((o) => o.id)).toEqual(QUANTIZERS.map((e) => e.id));
    }
    const q = controlsFor(config({ bits: 4 }), 'causal-lm').quant!;
    expect(option(q.quantizer, 'gptq')?.title).toBe(describeEntry(QUANTIZERS.find((e) => e.id === 'gptq')!));
    expect(option(q.quantizer, 'gptq')?.title).toContain('Frantar et al., ICLR 2023');
    expect(q.bits.value).toBe('4');
    for (const granularity of ['heads', 'neurons', 'blocks', 'sublayers', 'tokens'] as const)
      expect(controlsFor(config({ granularity }), 'causal-lm').quant).toBeNull();
  });

  it('without bits the grid’s settings wait, and act-order is ruled out with the catalogue’s reason', () => {
    const off = controlsFor(config(), 'causal-lm').quant!;
    expect(off.off).toBe(true);
    expect(off.symmetric).toMatchObject({ checked: false, disabled: true });
    const why = refusal({ family: 'causal-lm', granularity: 'unstructured', method: 'magnitude', actOrder: true });
    expect(why).toMatch(/there is no quantization/);
    expect(off.actOrder).toMatchObject({ checked: false, disabled: true, reason: sentence(why!) });
    const on = controlsFor(config({ bits: 3 }), 'causal-lm').quant!;
    expect(on.off).toBe(false);
    expect(on.symmetric.disabled).toBe(false);
  });

  it('act-order is GPTQ’s and not SparseGPT’s: disabled with the catalogue’s reason for each', () => {
    const cases = [
      [{ bits: 4, quantizer: 'rtn' }, 'magnitude'],
      [{ bits: 4, quantizer: 'gptq' }, 'sparsegpt'],
    ] as const;
    for (const [quant, method] of cases) {
      const q = controlsFor(config({ ...quant, method }), 'causal-lm').quant!;
      const why = refusal({
        family: 'causal-lm',
        granularity: 'unstructured',
        method,
        quantizer: quant.quantizer,
        actOrder: true,
      });
      expect(why, method).not.toBeNull();
      expect(q.actOrder).toMatchObject({ disabled: true, reason: sentence(why!) });
    }
    expect(
      controlsFor(config({ bits: 4, quantizer: 'gptq', method: 'wanda' }), 'causal-lm').quant!.actOrder,
    ).toMatchObject({ disabled: false, reason: null });
    // Chosen, it stays choosable (the page can turn it off).
    expect(
      controlsFor(config({ bits: 4, quantizer: 'gptq', actOrder: true }), 'causal-lm').quant!.actOrder,
    ).toMatchObject({ checked: true, disabled: false });
  });
});

describe('fitChoices', () => {
  it('puts back quantization choices an earlier one rules out', () => {
    const gptq = config({ bits: 4, quantizer: 'gptq', actOrder: true });
    expect(fitChoices(gptq, 'causal-lm')).toEqual({ state: gptq, reasons: [] });
    // Round to nearest has no column order; bits off have no columns to order; heads keep no weights to quantize.
    expect(fitChoices({ ...gptq, quantizer: 'rtn' }, 'causal-lm').state).toMatchObject({ bits: 4, actOrder: false });
    expect(fitChoices({ ...gptq, bits: null }, 'causal-lm').state.actOrder).toBe(false);
    expect(fitChoices({ ...gptq, method: 'sparsegpt' }, 'causal-lm').state).toMatchObject({
      method: 'sparsegpt',
      actOrder: false,
    });
    const heads = fitChoices({ ...config({ bits: 8 }), granularity: 'heads' }, 'causal-lm');
    expect(heads.state.bits).toBeNull();
    expect(heads.reasons[0]).toMatch(/applies to the weights a method keeps/);
  });

  it('puts back to the default, in the controls’ order, what the choices before it rule out', () => {
    const { state, reasons } = fitChoices(
      config({ method: 'sparsegpt', scope: 'global', allocation: 'owl', calibMode: 'one-shot' }),
      'image-classifier',
    );
    // SparseGPT cannot select globally: the scope goes; OWL then fits the per-layer scope.
    expect(state).toMatchObject({ scope: 'default', allocation: 'owl', calibMode: 'one-shot' });
    expect(reasons).toHaveLength(1);
    expect(refusal(choicesOf(state, 'image-classifier'))).toBeNull();
    const fitted = fitChoices(config({ method: 'magnitude', calibMode: 'one-shot' }), 'image-classifier');
    expect(fitted.state.calibMode).toBe('default');
    const same = config({ method: 'wanda', scope: 'global' });
    expect(fitChoices(same, 'causal-lm')).toEqual({ state: same, reasons: [] });
  });
});
