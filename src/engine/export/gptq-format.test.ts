// The GPTQ checkpoint format as written by gptq-format.ts: exact words for the documented bit layout
// (4, 8, 2 and 3 bits), the reference being AutoGPTQ's QuantLinear.pack loop
// (AutoGPTQ/AutoGPTQ auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py, qlinear_cuda.py) transcribed
// below with its uint32 arithmetic; qzeros with v1's −1 offset; scales as f16; g_idx under
// act-order; pack → unpack round trips; dequantized values as a loader computes them; GPT-2's Conv1D
// layout; refusals; config.json's quantization_config.
import { Mulberry32 } from '../pruning/random';
import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16 } from '../io/half';
import { readSafetensors, writeSafetensors, type TensorEntry } from '../io/safetensors';
import type { ModelConfig } from '../model/config';
import type { LinearSpec } from '../model/schema';
import type { QuantizedLinear, QuantSettings } from '../quant/types';
import {
  defaultGptqFormat,
  gptqBlockName,
  GptqFormatError,
  gptqQuantizationConfig,
  gptqTensors,
  toStoredLayout,
  unpackGptq,
  type GptqFormat,
  type GptqTensor,
} from './gptq-format';

const UP = 'model.layers.0.mlp.up_proj';

function spec(inFeatures: number, outFeatures: number, layout: LinearSpec['layout'] = 'out_in', name = UP): LinearSpec {
  return {
    weight: `${name}.weight`,
    bias: null,
    layout,
    inFeatures,
    outFeatures,
    layer: 0,
    role: 'ffn_in',
    prunable: true,
  };
}

interface Build {
  inF: number;
  outF: number;
  bits: number;
  /** code of [o, i]. */
  code: (o: number, i: number) => number;
  groups?: number;
  groupIndex?: (i: number) => number;
  zero?: (o: number, g: number) => number;
  scale?: (o: number, g: number) => number;
  symmetric?: boolean;
  /** 0 where pruned; a pruned weight's code is set to its zero point. */
  mask?: (o: number, i: number) => number;
}

/** A QuantizedLinear as the engine describes it: weights = scale · (code − zero), pruned ones exactly 0. */
function quantized(b: Build): QuantizedLinear {
  const groups = b.groups ?? 1;
  const symmetric = b.symmetric ?? false;
  const gi = Int32Array.from({ length: b.inF }, (_, i) => (b.groupIndex ? b.groupIndex(i) : 0));
  const zeros = new Float32Array(b.outF * groups);
  const scales = new Float32Array(b.outF * groups);
  for (let o = 0; o < b.outF; o++) {
    for (let g = 0; g < groups; g++) {
      zeros[o * groups + g] = symmetric ? 2 ** (b.bits - 1) : b.zero ? b.zero(o, g) : 1;
      scales[o * groups + g] = b.scale ? b.scale(o, g) : 0.5;
    }
  }
  const codes = new Uint8Array(b.outF * b.inF);
  const mask = new Uint8Array(b.outF * b.inF);
  const weights = new Float32Array(b.outF * b.inF);
  for (let o = 0; o < b.outF; o++) {
    for (let i = 0; i < b.inF; i++) {
      const k = o * groups + gi[i];
      const kept = b.mask ? b.mask(o, i) : 1;
      const code = kept ? b.code(o, i) : zeros[k];
      codes[o * b.inF + i] = code;
      mask[o * b.inF + i] = kept;
      weights[o * b.inF + i] = kept ? scales[k] * (code - zeros[k]) : 0;
    }
  }
  return { weights, codes, mask, scales, zeros, groupIndex: gi, groups, bits: b.bits, symmetric };
}

const byName = (ts: GptqTensor[]) => new Map(ts.map((t) => [t.name.slice(t.name.lastIndexOf('.') + 1), t]));
const asSource = (ts: GptqTensor[]) => new Map(ts.map((t) => [t.name, t]));

/** Deterministic pseudo-random numbers in [0, 1). */
const rng = (seed: number) => {
  const g = new Mulberry32(seed);
  return () => g.next();
};

// ---- AutoGPTQ's QuantLinear.pack, read line by line (numpy uint32 words; `>>> 0` keeps them unsigned) ----

/** qweight from intweight [in][out] (AutoGPTQ transposes W to [in, out] before this loop). */
function autoGptqQweight(intweight: number[][], bits: number): number[][] {
  const out = intweight[0].length;
  const qweight = Array.from({ length: (intweight.length / 32) * bits }, () => new Array<number>(out).fill(0));
  const or = (row: number, f: (c: number) => number) => {
    for (let c = 0; c < out; c++) qweight[row][c] = (qweight[row][c] | f(c)) >>> 0;
  };
  let i = 0;
  let row = 0;
  while (row < qweight.length) {
    if (bits === 2 || bits === 4 || bits === 8) {
      for (let j = i; j < i + 32 / bits; j++) or(row, (c) => intweight[j][c] << (bits * (j - i)));
      i += 32 / bits;
      row += 1;
    } else {
      for (let j = i; j < i + 10; j++) or(row, (c) => intweight[j][c] << (3 * (j - i)));
      i += 10;
      const a = i;
      or(row, (c) => intweight[a][c] << 30);
      row += 1;
      or(row, (c) => (intweight[a][c] >> 2) & 1);
      i += 1;
      for (let j = i; j < i + 10; j++) or(row, (c) => intweight[j][c] << (3 * (j - i) + 1));
      i += 10;
      const b = i;
      or(row, (c) => intweight[b][c] << 31);
      row += 1;
      or(row, (c) => (intweight[b][c] >> 1) & 0x3);
      i += 1;
      for (let j = i; j < i + 10; j++) or(row, (c) => intweight[j][c] << (3 * (j - i) + 2));
      i += 10;
      row += 1;
    }
  }
  return qweight;
}

/** qzeros from zeros [groups][out]: `zeros -= 1`, then the same loop along the columns. */
function autoGptqQzeros(zerosIn: number[][], bits: number): number[][] {
  const zeros = zerosIn.map((r) => r.map((z) => (z - 1) >>> 0));
  const cols = (zeros[0].length / 32) * bits;
  const qzeros = zeros.map(() => new Array<number>(cols).fill(0));
  const or = (col: number, f: (r: number) => number) => {
    for (let r = 0; r < zeros.length; r++) qzeros[r][col] = (qzeros[r][col] | f(r)) >>> 0;
  };
  let i = 0;
  let col = 0;
  while (col < cols) {
    if (bits === 2 || bits === 4 || bits === 8) {
      for (let j = i; j < i + 32 / bits; j++) or(col, (r) => zeros[r][j] << (bits * (j - i)));
      i += 32 / bits;
      col += 1;
    } else {
      for (let j = i; j < i + 10; j++) or(col, (r) => zeros[r][j] << (3 * (j - i)));
      i += 10;
      const a = i;
      or(col, (r) => zeros[r][a] << 30);
      col += 1;
      or(col, (r) => (zeros[r][a] >> 2) & 1);
      i += 1;
      for (let j = i; j < i + 10; j++) or(col, (r) => zeros[r][j] << (3 * (j - i) + 1));
      i += 10;
      const b = i;
      or(col, (r) => zeros[r][b] << 31);
      col += 1;
      or(col, (r) => (zeros[r][b] >> 1) & 0x3);
      i += 1;
      for (let j = i; j < i + 10; j++) or(col, (r) => zeros[r][j] << (3 * (j - i) + 2));
      i += 10;
      col += 1;
    }
  }
  return qzeros;
}

/** Rows of a row-major Int32Array as signed int32 (what numpy's astype(np.int32) gives). */
function rows(data: Int32Array | Float32Array, width: number): number[][] {
  return Array.from({ length: data.length / width }, (_, r) => Array.from(data.subarray(r * width, (r + 1) * width)));
}
const signed = (m: number[][]) => m.map((r) => r.map((v) => v | 0));

describe('qweight bit layout', () => {
  it('4 bits: codes 0…7 then 8…15 down one output column → 0x76543210, 0xFEDCBA98', () => {
    const q = quantized({ inF: 16, outF: 8, bits: 4, code: (o, i) => (o === 0 ? i : 0) });
    const { qweight } = Object.fromEntries(byName(gptqTensors(spec(16, 8), q)));
    expect(qweight.dtype).toBe('I32');
    expect(qweight.shape).toEqual([2, 8]); // [in·4/32, out]
    expect(qweight.data[0 * 8 + 0]).toBe(0x76543210);
    expect(qweight.data[1 * 8 + 0]).toBe(0xfedcba98 | 0); // stored as int32: −19088744
    expect(qweight.data[1 * 8 + 0]).toBe(-19088744);
    for (let o = 1; o < 8; o++) expect([qweight.data[o], qweight.data[8 + o]]).toEqual([0, 0]);
  });

  it('8 bits: four codes a word, lowest first', () => {
    const col = [0x12, 0x34, 0x56, 0xf8];
    const q = quantized({ inF: 4, outF: 4, bits: 8, code: (o, i) => (o === 1 ? col[i] : 7) });
    const { qweight } = Object.fromEntries(byName(gptqTensors(spec(4, 4), q)));
    expect(qweight.shape).toEqual([1, 4]);
    expect(qweight.data[1]).toBe(0xf8563412 | 0);
    expect(qweight.data[0]).toBe(0x07070707);
  });

  it('2 bits: sixteen codes a word', () => {
    const q = quantized({ inF: 16, outF: 16, bits: 2, code: (_o, i) => i % 4 });
    const { qweight } = Object.fromEntries(byName(gptqTensors(spec(16, 16), q)));
    expect(qweight.shape).toEqual([1, 16]);
    expect(Array.from(qweight.data)).toEqual(new Array(16).fill(0xe4e4e4e4 | 0)); // 11 10 01 00 per byte
  });

  it('3 bits: 32 codes → 3 words, codes 10 and 21 across word boundaries', () => {
    // Codes i % 8. Word 0: codes 0…9 at bits 0, 3, …, 27 and the low two bits of code 10 (= 2, 0b010)
    // at bits 30–31; from bit 31 down: 10 001 000 111 110 101 100 011 010 001 000 = 0x88FAC688.
    // Word 1: bit 0 = bit 2 of code 10 (0), codes 11…20 at bits 1, 4, …, 28, bit 31 = bit 0 of code
    // 21 (5 = 0b101 → 1). Word 2: bits 0–1 = bits 1–2 of code 21 (0b10), codes 22…31 at bits 2, 5, …, 29.
    const q = quantized({ inF: 32, outF: 32, bits: 3, code: (o, i) => (o === 0 ? i % 8 : 7) });
    const { qweight } = Object.fromEntries(byName(gptqTensors(spec(32, 32), q)));
    expect(qweight.shape).toEqual([3, 32]);
    expect([qweight.data[0], qweight.data[32], qweight.data[64]]).toEqual([
      0x88fac688 | 0,
      0xc688fac6 | 0,
      0xfac688fa | 0,
    ]);
    // All codes 7: every bit set.
    expect([qweight.data[1], qweight.data[33], qweight.data[65]]).toEqual([-1, -1, -1]);
    const intweight = Array.from({ length: 32 }, (_, i) => Array.from({ length: 32 }, (_, o) => q.codes[o * 32 + i]));
    expect(rows(qweight.data, 32)).toEqual(signed(autoGptqQweight(intweight, 3)));
  });

  it('equals AutoGPTQ’s pack on random codes for 2, 3, 4 and 8 bits', () => {
    for (const bits of [2, 3, 4, 8]) {
      const r = rng(bits);
      const [inF, outF] = [64, 96];
      const q = quantized({ inF, outF, bits, code: () => Math.floor(r() * 2 ** bits), zero: () => 1 });
      const { qweight } = Object.fromEntries(byName(gptqTensors(spec(inF, outF), q)));
      const intweight = Array.from({ length: inF }, (_, i) =>
        Array.from({ length: outF }, (_, o) => q.codes[o * inF + i]),
      );
      expect(qweight.shape).toEqual([(inF * bits) / 32, outF]);
      expect(rows(qweight.data, outF)).toEqual(signed(autoGptqQweight(intweight, bits)));
    }
  });
});

describe('qzeros', () => {
  it('v1 stores zero − 1: symmetric 4 bits → 0x77777777; v2 stores the zero → 0x88888888', () => {
    const q = quantized({
      inF: 16,
      outF: 16,
      bits: 4,
      symmetric: true,
      groups: 2,
      groupIndex: (i) => i >> 3,
      code: () => 3,
    });
    const v1 = Object.fromEntries(byName(gptqTensors(spec(16, 16), q, { format: 'gptq' })));
    expect(v1.qzeros.shape).toEqual([2, 2]); // [groups, out·4/32]
    expect(Array.from(v1.qzeros.data)).toEqual([0x77777777, 0x77777777, 0x77777777, 0x77777777]);
    const v2 = Object.fromEntries(byName(gptqTensors(spec(16, 16), q, { format: 'gptq_v2' })));
    expect(Array.from(v2.qzeros.data)).toEqual(new Array(4).fill(0x88888888 | 0));
  });

  it('v1 asymmetric: zeros 1…8 along the outputs → fields 0…7 = 0x76543210', () => {
    const q = quantized({ inF: 8, outF: 8, bits: 4, code: () => 0, zero: (o) => o + 1 });
    const { qzeros } = Object.fromEntries(byName(gptqTensors(spec(8, 8), q, { format: 'gptq' })));
    expect(Array.from(qzeros.data)).toEqual([0x76543210]);
  });

  it('v1 equals AutoGPTQ’s `zeros -= 1` pack on random zero points (≥ 1) for 2, 3, 4 and 8 bits', () => {
    for (const bits of [2, 3, 4, 8]) {
      const r = rng(100 + bits);
      const [inF, outF, groups] = [64, 96, 4];
      const q = quantized({
        inF,
        outF,
        bits,
        groups,
        groupIndex: (i) => i >> 4,
        zero: () => 1 + Math.floor(r() * (2 ** bits - 1)),
        code: () => 0,
      });
      const { qzeros } = Object.fromEntries(byName(gptqTensors(spec(inF, outF), q, { format: 'gptq' })));
      const zeros = Array.from({ length: groups }, (_, g) =>
        Array.from({ length: outF }, (_, o) => q.zeros[o * groups + g]),
      );
      expect(qzeros.shape).toEqual([groups, (outF * bits) / 32]);
      expect(rows(qzeros.data, (outF * bits) / 32)).toEqual(signed(autoGptqQzeros(zeros, bits)));
    }
  });
});

describe('scales and g_idx', () => {
  it('scales are [groups, out] half-precision values, written as F16 exactly', () => {
    const q = quantized({
      inF: 16,
      outF: 8,
      bits: 4,
      groups: 2,
      groupIndex: (i) => i >> 3,
      code: () => 5,
      scale: (o, g) => 0.1 * (o + 1) + g,
    });
    const ts = gptqTensors(spec(16, 8), q);
    const { scales } = Object.fromEntries(byName(ts));
    expect(scales.dtype).toBe('F16');
    expect(scales.shape).toEqual([2, 8]);
    for (let o = 0; o < 8; o++) {
      for (let g = 0; g < 2; g++) {
        const want = f16ToF32(f32ToF16(q.scales[o * 2 + g]));
        expect(scales.data[g * 8 + o]).toBe(want);
      }
    }
    expect(scales.data[0]).not.toBe(Math.fround(0.1)); // rounded to f16, not the float32 scale
    // Through the safetensors writer and back: the same half-precision values, the same ints.
    const file = readSafetensors(writeSafetensors(new Map<string, TensorEntry>(ts.map((t) => [t.name, t]))));
    for (const t of ts) {
      const back = file.tensors.get(t.name)!;
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.data)).toEqual(Array.from(t.data));
    }
  });

  it('g_idx with act-order: the group of each column follows the visit order', () => {
    const inF = 32;
    const r = rng(7);
    const perm = Array.from({ length: inF }, (_, i) => i);
    for (let i = inF - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const gIdx = new Array<number>(inF);
    perm.forEach((col, k) => {
      gIdx[col] = Math.floor(k / 8); // the k-th visited column is in group k / 8
    });
    const q = quantized({ inF, outF: 8, bits: 4, groups: 4, groupIndex: (i) => gIdx[i], code: (o, i) => (o + i) % 16 });
    const settings: QuantSettings = { bits: 4, groupSize: 8, symmetric: false, actOrder: true };
    const { g_idx } = Object.fromEntries(byName(gptqTensors(spec(inF, 8), q, { settings })));
    expect(g_idx.dtype).toBe('I32');
    expect(g_idx.shape).toEqual([inF]);
    expect(Array.from(g_idx.data)).toEqual(gIdx);
    expect(Array.from(g_idx.data)).not.toEqual(Array.from({ length: inF }, (_, i) => Math.floor(i / 8)));
    // Declared without act-order, kernels would take contiguous groups: refused.
    expect(() => gptqTensors(spec(inF, 8), q, { settings: { ...settings, actOrder: false } })).toThrow(
      /up_proj: g_idx\[\d+\] = \d+, not \d+: without desc_act/,
    );
  });
});

describe('round trip and dequantization', () => {
  const cases: { bits: number; symmetric: boolean; format: GptqFormat }[] = [];
  for (const bits of [2, 3, 4, 8]) {
    cases.push({ bits, symmetric: true, format: 'gptq' });
    cases.push({ bits, symmetric: false, format: 'gptq_v2' });
    cases.push({ bits, symmetric: false, format: 'gptq' });
  }
  it.each(cases)('$bits bits, symmetric $symmetric, $format: unpack gives back codes, scales, zeros, g_idx', (c) => {
    const r = rng(c.bits * 10 + (c.symmetric ? 1 : 2) + (c.format === 'gptq' ? 5 : 0));
    const [inF, outF, groups] = [96, 64, 3];
    const maxq = 2 ** c.bits - 1;
    const q = quantized({
      inF,
      outF,
      bits: c.bits,
      symmetric: c.symmetric,
      groups,
      groupIndex: (i) => i % groups, // act-order-like interleaving
      code: () => Math.floor(r() * (maxq + 1)),
      // v1 cannot store a zero point of 0.
      zero: () => (c.format === 'gptq' ? 1 : 0) + Math.floor(r() * (c.format === 'gptq' ? maxq : maxq + 1)),
      scale: () => 1e-3 + r() * 0.05,
      mask: () => (r() < 0.3 ? 0 : 1),
    });
    const ts = gptqTensors(spec(inF, outF), q, { format: c.format });
    const back = unpackGptq(spec(inF, outF), asSource(ts), { bits: c.bits, format: c.format });
    expect(back.groups).toBe(groups);
    expect(back.codes).toEqual(q.codes);
    expect(back.zeros).toEqual(q.zeros);
    expect(back.groupIndex).toEqual(q.groupIndex);
    expect(back.scales).toEqual(q.scales.map((s) => f16ToF32(f32ToF16(s))));
    // What a loader computes: scale[g_idx[i]] · (code − zero), pruned weights exactly 0.
    for (let o = 0; o < outF; o++) {
      for (let i = 0; i < inF; i++) {
        const k = o * groups + q.groupIndex[i];
        const code = q.codes[o * inF + i];
        expect(back.weights[o * inF + i]).toBe(Math.fround(back.scales[k] * (code - q.zeros[k])));
        if (q.mask[o * inF + i] === 0) expect(back.weights[o * inF + i]).toBe(0);
      }
    }
    // Within half-precision rounding of the engine's own dequantized values.
    for (let j = 0; j < q.weights.length; j++) {
      expect(Math.abs(back.weights[j] - q.weights[j])).toBeLessThanOrEqual(Math.abs(q.weights[j]) * 2 ** -10 + 1e-12);
    }
  });

  it('reads the tensors back from a written safetensors file', () => {
    const q = quantized({ inF: 32, outF: 32, bits: 3, code: (o, i) => (o * 3 + i) % 8, zero: (o) => 1 + (o % 7) });
    const ts = gptqTensors(spec(32, 32), q, { format: 'gptq' });
    const file = readSafetensors(writeSafetensors(new Map<string, TensorEntry>(ts.map((t) => [t.name, t]))));
    const back = unpackGptq(spec(32, 32), file.tensors, { bits: 3, format: 'gptq' });
    expect(back.codes).toEqual(q.codes);
    expect(back.zeros).toEqual(q.zeros);
    expect(back.weights).toEqual(q.weights); // scale 0.5 is exact in f16
  });

  it('a v1 zero field of all ones reads 2^bits, as AutoGPTQ’s unpack (field + 1) does', () => {
    const q = quantized({ inF: 8, outF: 8, bits: 4, code: () => 0, zero: () => 8 });
    const ts = gptqTensors(spec(8, 8), q, { format: 'gptq_v2' });
    byName(ts).get('qzeros')!.data[0] = -1; // every field 15
    expect(Array.from(unpackGptq(spec(8, 8), asSource(ts), { bits: 4, format: 'gptq' }).zeros)).toEqual(
      new Array(8).fill(16),
    );
  });
});

describe('GPT-2 Conv1D layout', () => {
  it('packs the same [out, in] codes as nn.Linear: qweight [in·b/32, out], names from the Conv1D', () => {
    const [inF, outF] = [32, 64];
    const conv = spec(inF, outF, 'in_out', 'transformer.h.0.mlp.c_fc');
    const lin = spec(inF, outF, 'out_in');
    const q = quantized({ inF, outF, bits: 4, code: (o, i) => (3 * o + i) % 16, zero: (o) => 1 + (o % 15) });
    const ts = gptqTensors(conv, q);
    expect(ts.map((t) => t.name)).toEqual([
      'transformer.h.0.mlp.c_fc.qweight',
      'transformer.h.0.mlp.c_fc.qzeros',
      'transformer.h.0.mlp.c_fc.scales',
      'transformer.h.0.mlp.c_fc.g_idx',
    ]);
    expect(ts.map((t) => t.shape)).toEqual([[4, 64], [1, 8], [1, 64], [32]]);
    const linear = gptqTensors(lin, q);
    expect(ts.map((t) => t.data)).toEqual(linear.map((t) => t.data));
    // The first word of output column o holds inputs 0…7 of row o of the [out, in] codes.
    const word = (o: number) =>
      Array.from({ length: 8 }, (_, i) => q.codes[o * inF + i] << (4 * i)).reduce((a, b) => a | b);
    expect(ts[0].data[5]).toBe(word(5));
    // Dequantized back as the Conv1D stores its weight: [in, out].
    const back = unpackGptq(conv, asSource(ts), { bits: 4, format: defaultGptqFormat(false) });
    const stored = toStoredLayout(conv, back.weights);
    for (let o = 0; o < outF; o++)
      for (let i = 0; i < inF; i++) expect(stored[i * outF + o]).toBe(q.weights[o * inF + i]);
    expect(toStoredLayout(lin, back.weights)).toBe(back.weights);
  });
});

describe('refusals', () => {
  const base = () => quantized({ inF: 32, outF: 32, bits: 4, code: () => 2, zero: () => 3 });
  const refuses = (f: () => unknown, message: RegExp) => {
    expect(f).toThrow(GptqFormatError);
    expect(f).toThrow(message);
  };

  it('bits other than 2, 3, 4, 8', () => {
    refuses(
      () => gptqTensors(spec(32, 32), { ...base(), bits: 5 }),
      /model\.layers\.0\.mlp\.up_proj: GPTQ packs 2, 3, 4 or 8 bits, got 5/,
    );
    refuses(() => gptqTensors(spec(32, 32), { ...base(), bits: 6 }), /up_proj.*got 6/);
  });

  it('in·bits or out·bits not a multiple of 32', () => {
    const q = quantized({ inF: 12, outF: 32, bits: 4, code: () => 1 });
    refuses(
      () => gptqTensors(spec(12, 32), q),
      /up_proj: in_features 12 × 4 bits is not a whole number of 32-bit words/,
    );
    const q3 = quantized({ inF: 32, outF: 40, bits: 3, code: () => 1 });
    refuses(() => gptqTensors(spec(32, 40), q3), /up_proj: out_features 40 × 3 bits/);
    // 8 inputs × 4 bits is one word: fine.
    expect(() => gptqTensors(spec(8, 8), quantized({ inF: 8, outF: 8, bits: 4, code: () => 1 }))).not.toThrow();
  });

  it('a pruned weight whose code is not its zero point', () => {
    const q = base();
    q.mask[5] = 0; // code 2, zero 3
    refuses(() => gptqTensors(spec(32, 32), q), /up_proj: pruned weight \[0, 5\] has code 2, not its zero point 3/);
  });

  it('a symmetric zero point other than 2^(bits − 1)', () => {
    const q = quantized({ inF: 32, outF: 32, bits: 4, symmetric: true, code: () => 1 });
    q.zeros[3] = 7;
    refuses(() => gptqTensors(spec(32, 32), q), /up_proj: row 3, group 0: symmetric zero point 7 is not 8/);
  });

  it('a zero point of 0 in v1, which v2 stores', () => {
    const q = quantized({ inF: 32, outF: 32, bits: 4, code: () => 1, zero: (o) => (o === 4 ? 0 : 2) });
    refuses(
      () => gptqTensors(spec(32, 32), q, { format: 'gptq' }),
      /up_proj: row 4, group 0: zero point 0 cannot be stored in the "gptq" format/,
    );
    expect(() => gptqTensors(spec(32, 32), q)).not.toThrow(); // asymmetric defaults to gptq_v2
    const q2 = base();
    q2.zeros[0] = 16;
    refuses(() => gptqTensors(spec(32, 32), q2), /zero point 16 is not a code 0 … 15/);
  });

  it('codes off the grid, wrong lengths, bad g_idx, scales half precision cannot hold', () => {
    const q = base();
    q.codes[40] = 16;
    refuses(() => gptqTensors(spec(32, 32), q), /up_proj: code 16 at \[1, 8\] exceeds 15/);
    refuses(
      () => gptqTensors(spec(32, 32), { ...base(), scales: new Float32Array(31) }),
      /up_proj: scales has 31 values, expected 32/,
    );
    const g = base();
    g.groupIndex[2] = 1;
    refuses(() => gptqTensors(spec(32, 32), g), /up_proj: g_idx\[2\] = 1 is not a group 0 … 0/);
    const s = base();
    s.scales[1] = 1e6;
    refuses(
      () => gptqTensors(spec(32, 32), s),
      /up_proj: row 1, group 0: scale 1000000 is not finite in half precision/,
    );
  });

  it('settings that disagree with the linear', () => {
    const settings: QuantSettings = { bits: 4, groupSize: 16, symmetric: false, actOrder: false };
    refuses(
      () => gptqTensors(spec(32, 32), base(), { settings }),
      /up_proj: 1 groups, but loaders allocate ceil\(32 \/ 16\) = 2/,
    );
    refuses(
      () => gptqTensors(spec(32, 32), base(), { settings: { ...settings, bits: 8 } }),
      /up_proj: quantized with 4 bits/,
    );
    expect(() => gptqTensors(spec(32, 32), base(), { settings: { ...settings, groupSize: 0 } })).not.toThrow();
  });

  it('unpack: missing or mis-sized tensors', () => {
    const ts = gptqTensors(spec(32, 32), base());
    const src = asSource(ts);
    src.delete(`${UP}.g_idx`);
    refuses(
      () => unpackGptq(spec(32, 32), src, { bits: 4, format: 'gptq' }),
      /up_proj: no model\.layers\.0\.mlp\.up_proj\.g_idx/,
    );
    refuses(
      () => unpackGptq(spec(64, 32), asSource(ts), { bits: 4, format: 'gptq' }),
      /up_proj\.qweight: 128 values, expected 256/,
    );
  });
});

describe('quantization_config', () => {
  it('symmetric 4 bits, groups of 128, act-order: the keys loaders read', () => {
    const c = gptqQuantizationConfig(
      { bits: 4, groupSize: 128, symmetric: true, actOrder: true },
      { blockNameToQuantize: 'model.layers' },
    );
    expect(c).toEqual({
      quant_method: 'gptq',
      bits: 4,
      group_size: 128,
      desc_act: true,
      sym: true,
      damp_percent: 0.01,
      true_sequential: false,
      static_groups: false,
      format: 'gptq',
      checkpoint_format: 'gptq',
      pack_dtype: 'int32',
      lm_head: false,
      block_name_to_quantize: 'model.layers',
      meta: { quantizer: [expect.stringMatching(/^pruning-workbench:\d+\.\d+\.\d+/)] },
    });
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });

  it('per channel is group_size −1; asymmetric is gptq_v2 unless told otherwise', () => {
    const c = gptqQuantizationConfig({ bits: 3, groupSize: 0, symmetric: false, actOrder: false });
    expect(c).toMatchObject({
      bits: 3,
      group_size: -1,
      sym: false,
      desc_act: false,
      format: 'gptq_v2',
      checkpoint_format: 'gptq_v2',
    });
    expect(c).not.toHaveProperty('block_name_to_quantize');
    expect(c).not.toHaveProperty('modules_in_block_to_quantize');
    const v1 = gptqQuantizationConfig(
      { bits: 2, groupSize: 64, symmetric: false, actOrder: false },
      {
        format: 'gptq',
        dampPercent: 0.1,
        trueSequential: true,
        modulesInBlockToQuantize: [['attn.c_attn'], ['mlp.c_fc']],
      },
    );
    expect(v1).toMatchObject({
      format: 'gptq',
      checkpoint_format: 'gptq',
      damp_percent: 0.1,
      true_sequential: true,
      modules_in_block_to_quantize: [['attn.c_attn'], ['mlp.c_fc']],
    });
  });

  it('refuses what GPTQConfig refuses', () => {
    expect(() => gptqQuantizationConfig({ bits: 5, groupSize: 128, symmetric: true, actOrder: false })).toThrow(
      /GPTQ packs 2, 3, 4 or 8 bits, got 5/,
    );
    expect(() =>
      gptqQuantizationConfig({ bits: 4, groupSize: 128, symmetric: true, actOrder: false }, { dampPercent: 0 }),
    ).toThrow(/damp_percent 0 must lie strictly between 0 and 1/);
    expect(() => gptqQuantizationConfig({ bits: 4, groupSize: -2, symmetric: true, actOrder: false })).toThrow(
      /group size -2/,
    );
  });

  it('block names: GPT-2 and the Llama family; no ViT', () => {
    expect(gptqBlockName({ kind: 'gpt2' } as ModelConfig)).toBe('transformer.h');
    expect(gptqBlockName({ kind: 'llama' } as ModelConfig)).toBe('model.layers');
    expect(() => gptqBlockName({ kind: 'vit' } as ModelConfig)).toThrow(GptqFormatError);
  });
});
