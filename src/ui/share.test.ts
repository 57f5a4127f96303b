// The share link: strict parsing against the catalogue, the new fields, old links opening the same
// configuration, refused combinations with the catalogue's reason, and the inspected input.
import { describe, expect, it } from 'vitest';
import {
  ALLOCATIONS,
  allocationEntry,
  CALIBRATION_MODES,
  GRANULARITIES,
  METHODS,
  QUANT_BITS,
  QUANT_GROUP_SIZES,
  QUANTIZERS,
  SCOPES,
} from '../engine/pruning/catalogue';
import { recipeOf } from './config-slice';
import {
  ALLOCATION_PARAMETER_FIELDS,
  defaultShareState,
  DRAWN_SIZE,
  encodeShareState,
  inputCode,
  MAX_INPUT_TEXT,
  MAX_LAYERS,
  parameterFields,
  parseInputCode,
  parseShareHash,
  type ShareState,
} from './share';

describe('share link', () => {
  it('round-trips', () => {
    const s = {
      ...defaultShareState('gpt-bytes'),
      method: 'wanda' as const,
      sparsity: 0.55,
      axis: 'bytes' as const,
      layer: 2,
      window: 64,
    };
    const h = encodeShareState(s);
    expect(h).toMatch(/^#v1\.[A-Za-z0-9_-]+$/);
    expect(parseShareHash(h)).toEqual({ kind: 'ok', state: s });
    expect(parseShareHash('')).toEqual({ kind: 'none' });
  });
  it('refuses corrupt, truncated, tampered and future links', () => {
    const h = encodeShareState({ ...defaultShareState(), sparsity: 0.5 });
    for (const bad of [
      h.slice(0, h.length - 5),
      '#v1.!!!',
      '#hello',
      `#v1.${btoa('{"sparsity":7}')}`,
      `#v1.${btoa('{"method":"<img src=x>"}')}`,
      `#v1.${btoa('{"x":1}')}`,
    ]) {
      expect(parseShareHash(bad).kind).toBe('error');
    }
    const future = parseShareHash('#v9.abc');
    expect(future.kind === 'error' && future.message).toMatch(/newer version/);
  });
});

describe('inspected input in the link', () => {
  const drawn = Uint8Array.from({ length: DRAWN_SIZE * DRAWN_SIZE }, (_, i) => ((i * 7) % 16) * 17);

  it('round-trips eval images, text and drawn images; defaults are left out of the link', () => {
    for (const input of [
      'e:0',
      'e:12',
      't:And God said, ',
      `t:${'é'.repeat(MAX_INPUT_TEXT)}`,
      inputCode({ kind: 'drawn', pixels: drawn }),
    ]) {
      const s = { ...defaultShareState(), input };
      expect(parseShareHash(encodeShareState(s))).toEqual({ kind: 'ok', state: s });
    }
    expect(encodeShareState(defaultShareState())).toBe(encodeShareState({ ...defaultShareState(), input: '' }));
    expect(parseInputCode(inputCode({ kind: 'drawn', pixels: drawn }))).toEqual({ kind: 'drawn', pixels: drawn });
    expect(inputCode({ kind: 'drawn', pixels: drawn })).toHaveLength(2 + 523);
  });

  it('rounds a drawn image to 4 bits a pixel', () => {
    const grey = new Uint8Array(DRAWN_SIZE * DRAWN_SIZE).fill(100); // 100 / 17 = 5.9 → 6 → 102
    const back = parseInputCode(inputCode({ kind: 'drawn', pixels: grey }));
    expect(back.kind === 'drawn' && back.pixels[0]).toBe(102);
  });

  it('old links without the field open on the default input', () => {
    const old = `#v1.${btoa(JSON.stringify({ model: 'vit-fashion', sparsity: 0.5 })).replace(/=+$/, '')}`;
    expect(parseShareHash(old)).toEqual({ kind: 'ok', state: { ...defaultShareState(), sparsity: 0.5 } });
  });

  it('refuses bad inputs with a message that names the field', () => {
    const code = inputCode({ kind: 'drawn', pixels: drawn }).slice(2);
    const bad: [unknown, RegExp][] = [
      [7, /"input" must be a string/],
      ['x:1', /must be empty or start with e:/],
      ['e:-1', /eval image must be an index/],
      ['e:01', /eval image must be an index/],
      ['e:1.5', /eval image must be an index/],
      ['t:', /1 to 256 characters/],
      [`t:${'a'.repeat(MAX_INPUT_TEXT + 1)}`, /1 to 256 characters/],
      [`d:${code.slice(1)}`, /drawn image must be 28×28/],
      [`d:${code}A`, /drawn image must be 28×28/],
      [`d:${code.slice(0, -1)}B`, /drawn image must be 28×28/], // non-canonical trailing bits
      [`d:${code.slice(0, -2)}+/A`, /drawn image must be 28×28/],
    ];
    for (const [input, message] of bad) {
      const r = parseShareHash(encodeShareState({ ...defaultShareState(), input: input as string }));
      expect(r.kind === 'error' && r.message, String(input)).toMatch(message);
    }
  });
});

describe('per-layer sparsity in the link', () => {
  const link = (fields: Record<string, unknown>) =>
    `#v1.${btoa(JSON.stringify({ model: 'vit-fashion', ...fields })).replace(/=+$/, '')}`;

  it('round-trips free per-layer values; locked (null) is the default and left out', () => {
    const s = { ...defaultShareState('gpt-bytes'), sparsity: 0.4, layerSparsity: [0.9, 0.25, 0, 0.95] };
    expect(parseShareHash(encodeShareState(s))).toEqual({ kind: 'ok', state: s });
    expect(encodeShareState({ ...defaultShareState(), layerSparsity: null })).toBe(
      encodeShareState(defaultShareState()),
    );
    const one = { ...defaultShareState(), layerSparsity: Array(MAX_LAYERS).fill(0.5) };
    expect(parseShareHash(encodeShareState(one))).toEqual({ kind: 'ok', state: one });
  });

  it('old links without the field open locked', () => {
    expect(parseShareHash(link({ sparsity: 0.5 }))).toEqual({
      kind: 'ok',
      state: { ...defaultShareState(), sparsity: 0.5 },
    });
  });

  it('refuses bad values with a message that names the field', () => {
    const bad: [unknown, RegExp][] = [
      [[], /"layerSparsity" must be null or a list of 1 to 64 numbers/],
      [Array(MAX_LAYERS + 1).fill(0.1), /list of 1 to 64/],
      ['0.5,0.5', /list of 1 to 64/],
      [{ 0: 0.5 }, /list of 1 to 64/],
      [0.5, /list of 1 to 64/],
      [[0.5, 0.96], /"layerSparsity\[1\]" must be a number from 0 to 0.95/],
      [[-0.1], /"layerSparsity\[0\]" must be a number/],
      [[0.5, '0.5'], /"layerSparsity\[1\]"/],
      [[0.5, null], /"layerSparsity\[1\]"/],
    ];
    for (const [layerSparsity, message] of bad) {
      const r = parseShareHash(link({ layerSparsity }));
      expect(r.kind === 'error' && r.message, JSON.stringify(layerSparsity)).toMatch(message);
    }
  });
});

describe('choices in the link, from the catalogue', () => {
  const link = (fields: Record<string, unknown>) =>
    `#v1.${btoa(JSON.stringify({ model: 'vit-fashion', ...fields })).replace(/=+$/, '')}`;
  const state = (fields: Record<string, unknown>) => {
    const r = parseShareHash(link(fields));
    if (r.kind !== 'ok') throw new Error(r.kind === 'error' ? r.message : 'no link');
    return r.state;
  };

  it('accepts every id the catalogue has; the new fields default to the catalogue’s', () => {
    for (const m of METHODS) expect(state({ method: m.id }).method).toBe(m.id);
    for (const g of GRANULARITIES) expect(state({ granularity: g.id }).granularity).toBe(g.id);
    for (const a of ALLOCATIONS) expect(state({ allocation: a.id }).allocation).toBe(a.id);
    for (const m of CALIBRATION_MODES) expect(state({ method: 'wanda', calibMode: m.id }).calibMode).toBe(m.id);
    for (const sc of SCOPES) expect(state({ method: 'magnitude', scope: sc.id }).scope).toBe(sc.id);
    expect(state({ granularity: 'tokens', score: 'column-sum' }).score).toBe('column-sum');
    expect(state({ granularity: 'sublayers', score: 'finercut' }).score).toBe('finercut');
    expect(defaultShareState()).toMatchObject({ scope: 'default', calibMode: 'default', owlM: 5, owlLambda: 0.08 });
  });

  it('round-trips scope, calibration mode and OWL’s parameters; defaults stay out of the link', () => {
    const s = {
      ...defaultShareState('gpt-bytes'),
      method: 'wanda' as const,
      scope: 'layer' as const,
      allocation: 'owl' as const,
      owlM: 7,
      owlLambda: 0.12,
      calibMode: 'one-shot' as const,
      sparsity: 0.6,
    };
    expect(parseShareHash(encodeShareState(s))).toEqual({ kind: 'ok', state: s });
    const plain = JSON.parse(atob(encodeShareState(defaultShareState()).slice(4)));
    expect(plain).toEqual({ model: 'vit-fashion' });
  });

  it('refuses bad values, naming the field and the catalogue’s range', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ method: 'obd' }, /"method" must be one of magnitude, random, wanda, sparsegpt, taylor, taylor-mean/],
      [{ scope: 'diagonal' }, /"scope" must be one of default, layer, row, global/],
      [{ calibMode: 'twice' }, /"calibMode" must be one of default, sequential, one-shot/],
      [{ calibSource: 'custom' }, /"calibSource" must be one of default, train, held-out, random/],
      [{ owlM: 0 }, /"owlM" must be a number from 1 to 100/],
      [{ owlLambda: 0.6 }, /"owlLambda" must be a number from 0 to 0.5/],
      [{ owlLambda: '0.1' }, /"owlLambda"/],
      [{ window: 1 }, /"window" must be an integer from 2 to 2048/],
      [{ window: 64.5 }, /"window" must be an integer/],
    ];
    for (const [fields, message] of bad) {
      const r = parseShareHash(link(fields));
      expect(r.kind === 'error' && r.message, JSON.stringify(fields)).toMatch(message);
    }
  });

  it('a combination the catalogue refuses gets its reason, naming both choices', () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ method: 'sparsegpt', scope: 'row' }, /cannot be combined: “SparseGPT” .*“per output row” scope/],
      [{ allocation: 'owl', scope: 'global' }, /“global” scope sets one threshold .*“OWL” allocation/],
      [{ granularity: 'heads', scope: 'row' }, /“Attention heads” ranks per layer or globally/],
      [{ granularity: 'heads', score: 'finercut' }, /“Attention heads” is not ranked by “finercut”/],
    ];
    for (const [fields, message] of refused) {
      const r = parseShareHash(link(fields));
      expect(r.kind === 'error' && r.message, JSON.stringify(fields)).toMatch(message);
    }
    // A choice for a control the page does not show is ignored, as the page ignored it.
    expect(state({ method: 'magnitude', calibMode: 'sequential' }).calibMode).toBe('default');
  });

  // Made by the page before its controls followed the catalogue (encodeShareState of that version).
  it('old links open the same configuration', () => {
    const old = {
      wandaGlobal:
        '#v1.eyJtb2RlbCI6ImdwdC1ieXRlcyIsIm1ldGhvZCI6IndhbmRhIiwic2NvcGUiOiJnbG9iYWwiLCJzcGFyc2l0eSI6MC41LCJheGlzIjoiYnl0ZXMifQ',
      headsEntropy:
        '#v1.eyJtb2RlbCI6InZpdC1mYXNoaW9uIiwiZ3JhbnVsYXJpdHkiOiJoZWFkcyIsInNjb3JlIjoiZW50cm9weSIsInNjb3BlIjoiZ2xvYmFsIiwiY2FsaWJTb3VyY2UiOiJoZWxkLW91dCIsImNhbGliQ291bnQiOjY0LCJzcGFyc2l0eSI6MC4yNX0',
      owlPerLayer:
        '#v1.eyJtb2RlbCI6InZpdC1mYXNoaW9uIiwiYWxsb2NhdGlvbiI6Im93bCIsInNwYXJzaXR5IjowLjQsImxheWVyU3BhcnNpdHkiOlswLjksMC4yNSwwLDAuNV19',
      nmGlobal:
        '#v1.eyJtb2RlbCI6InZpdC1mYXNoaW9uIiwibWV0aG9kIjoic3BhcnNlZ3B0IiwiZ3JhbnVsYXJpdHkiOiJubSIsInNjb3BlIjoiZ2xvYmFsIiwiYWxsb2NhdGlvbiI6InNlbnNpdGl2aXR5In0',
      blocksGlobal:
        '#v1.eyJtb2RlbCI6InZpdC1mYXNoaW9uIiwiZ3JhbnVsYXJpdHkiOiJibG9ja3MiLCJzY29wZSI6Imdsb2JhbCIsInNwYXJzaXR5IjowLjI1LCJsYXllciI6MX0',
    };
    const opened = (hash: string) => {
      const r = parseShareHash(hash);
      if (r.kind !== 'ok') throw new Error(r.kind === 'error' ? r.message : 'no link');
      return r.state;
    };
    const wanda = opened(old.wandaGlobal);
    expect(wanda).toEqual({
      ...defaultShareState('gpt-bytes'),
      method: 'wanda',
      scope: 'global',
      sparsity: 0.5,
      axis: 'bytes',
    });
    expect(recipeOf(wanda, 'causal-lm')).toMatchObject({ recipe: { method: 'wanda', scope: 'global', sparsity: 0.5 } });
    expect(opened(old.headsEntropy)).toEqual({
      ...defaultShareState(),
      granularity: 'heads',
      score: 'entropy',
      scope: 'global',
      calibSource: 'held-out',
      calibCount: 64,
      sparsity: 0.25,
    });
    // Per-block values replaced the allocation then as now; the page sends them with the uniform one.
    const perLayer = opened(old.owlPerLayer);
    expect(perLayer).toEqual({ ...defaultShareState(), sparsity: 0.4, layerSparsity: [0.9, 0.25, 0, 0.5] });
    expect(recipeOf(perLayer, 'image-classifier')).toMatchObject({
      recipe: { allocation: 'uniform', blockSparsity: [0.9, 0.25, 0, 0.5] },
    });
    // 2:4 and blocks ignored the scope (and 2:4 the allocation): they still do.
    expect(opened(old.nmGlobal)).toEqual({ ...defaultShareState(), granularity: 'nm', method: 'sparsegpt' });
    expect(opened(old.blocksGlobal)).toEqual({
      ...defaultShareState(),
      granularity: 'blocks',
      sparsity: 0.25,
      layer: 1,
    });
  });
});

describe('quantization and EvoPress in the link', () => {
  const link = (fields: Record<string, unknown>) =>
    `#v1.${btoa(JSON.stringify({ model: 'gpt-bytes', ...fields })).replace(/=+$/, '')}`;

  it('round-trips the bits, the grid, the quantizer, act-order, the search steps and the chart’s colouring', () => {
    const s: ShareState = {
      ...defaultShareState('gpt-bytes'),
      method: 'wanda',
      sparsity: 0.5,
      allocation: 'evopress',
      evoSteps: 120,
      bits: 3,
      groupSize: 64,
      quantizer: 'gptq',
      actOrder: true,
      symmetric: true,
      chartColor: 'bits',
      axis: 'bytes',
    };
    expect(parseShareHash(encodeShareState(s))).toEqual({ kind: 'ok', state: s });
    for (const bits of QUANT_BITS)
      for (const groupSize of QUANT_GROUP_SIZES)
        for (const q of QUANTIZERS) {
          const one = { ...defaultShareState('gpt-bytes'), bits, groupSize, quantizer: q.id };
          expect(parseShareHash(encodeShareState(one))).toEqual({ kind: 'ok', state: one });
        }
    // Unquantized is the default, and stays out of the link.
    expect(defaultShareState()).toMatchObject({ bits: null, groupSize: 0, actOrder: false, symmetric: false });
    expect(JSON.parse(atob(encodeShareState(defaultShareState('gpt-bytes')).slice(4)))).toEqual({ model: 'gpt-bytes' });
  });

  it('old links without the fields open unquantized, with the catalogue’s search steps', () => {
    const r = parseShareHash(link({ method: 'wanda', sparsity: 0.5 }));
    expect(r).toEqual({ kind: 'ok', state: { ...defaultShareState('gpt-bytes'), method: 'wanda', sparsity: 0.5 } });
    const steps = allocationEntry('evopress').parameters.find((p) => p.id === 'steps')!;
    expect(r.kind === 'ok' && r.state).toMatchObject({ bits: null, evoSteps: steps.default, chartColor: 'curve' });
    expect(r.kind === 'ok' && recipeOf(r.state, 'causal-lm').recipe).not.toHaveProperty('quant');
  });

  it('refuses corrupt values, naming the field and what it may be', () => {
    const steps = allocationEntry('evopress').parameters.find((p) => p.id === 'steps')!;
    const stepsRange = new RegExp(`"evoSteps" must be an integer from ${steps.min} to ${steps.max}`);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ bits: 5 }, /"bits" must be null or one of 8, 4, 3/],
      [{ bits: '4' }, /"bits" must be null or one of 8, 4, 3/],
      [{ bits: 2 }, /"bits"/],
      [{ groupSize: 100 }, /"groupSize" must be one of 0, 128, 64, 32/],
      [{ groupSize: null }, /"groupSize" must be one of/],
      [{ quantizer: 'awq' }, /"quantizer" must be one of rtn, gptq/],
      [{ actOrder: 'yes' }, /"actOrder" must be true or false/],
      [{ symmetric: 1 }, /"symmetric" must be true or false/],
      [{ evoSteps: steps.min - 1 }, stepsRange],
      [{ evoSteps: steps.min + 0.5 }, /"evoSteps" must be an integer/],
      [{ evoSteps: steps.max + 1 }, stepsRange],
      [{ evoSteps: '20' }, stepsRange],
      [{ chartColor: 'red' }, /"chartColor" must be one of curve, bits/],
    ];
    for (const [fields, message] of bad) {
      const r = parseShareHash(link(fields));
      expect(r.kind === 'error' && r.message, JSON.stringify(fields)).toMatch(message);
    }
  });

  it('a quantization the catalogue refuses gets its reason; where no bits apply they are ignored', () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ bits: 4, quantizer: 'rtn', actOrder: true }, /cannot be combined: act-order orders GPTQ’s columns/],
      [{ actOrder: true }, /cannot be combined: act-order .* there is no quantization/],
      [{ method: 'sparsegpt', bits: 4, quantizer: 'gptq', actOrder: true }, /“SparseGPT” chooses its mask/],
    ];
    for (const [fields, message] of refused) {
      const r = parseShareHash(link(fields));
      expect(r.kind === 'error' && r.message, JSON.stringify(fields)).toMatch(message);
    }
    const heads = parseShareHash(link({ granularity: 'heads', bits: 4 }));
    expect(heads.kind === 'ok' && heads.state.bits).toBeNull();
  });

  it('every allocation parameter of the catalogue has a field of the state', () => {
    for (const a of ALLOCATIONS) {
      const fields = parameterFields(a.id);
      expect(fields.map((f) => f.parameter.id)).toEqual(a.parameters.map((p) => p.id));
      for (const { parameter, field } of fields) expect(defaultShareState()[field]).toBe(parameter.default);
    }
    expect(Object.keys(ALLOCATION_PARAMETER_FIELDS).sort()).toEqual(
      ALLOCATIONS.filter((a) => a.parameters.length > 0)
        .map((a) => a.id)
        .sort(),
    );
  });
});
