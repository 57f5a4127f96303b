// The inspection views against the plain-TypeScript reference twin, on tiny random checkpoints:
// attention maps, rollout and predictions equal what the reference computes, gradient × input equals
// a finite-difference gradient of the reference, masks are reported and change the views, and no
// call leaves a tensor behind.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attentionMaps, predictClasses, predictNext, predictions, saliency } from './inspect';
import { generate } from './generate';
import type { HostTensor } from '../model/checkpoint';
import type { ModelConfig } from '../model/config';
import { referenceForward, type ReferenceMasks } from '../model/reference';
import { GPT2_PREFIX } from '../model/schema';
import { maxAbsDiff, randomArray, randomHostWeights, tinyGpt2, tinyVit } from '../model/tiny-models';
import type { ModelMasks } from '../model/types';
import { toTfWeights } from '../model/weights';

const TOL = 1e-4;

const gpt2 = tinyGpt2();
const gpt2Host = randomHostWeights(gpt2, 1);
const gpt2Weights = toTfWeights(gpt2Host);
const ids = [3, 36, 0, 17, 5, 5, 22, 9, 1, 30, 12];

const vit = tinyVit();
const vitHost = randomHostWeights(vit, 2);
const vitWeights = toTfWeights(vitHost);
const pixels = randomArray(vit.numChannels * vit.imageSize * vit.imageSize, 7); // normalised, [C, H, W]

// Every test must free what it makes.
let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

const softmax = (v: number[]) => {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

/** The direct rollout: the full matrix product Π (0.5·Ā + 0.5·I), rows renormalised after each step. */
function directRollout(
  attention: number[][][][],
  headMask: number[][] | undefined,
  positions?: number[][],
): number[][] {
  const t0 = positions ? positions[0].length : attention.find((a) => a.length)![0].length;
  let r: number[][] = Array.from({ length: t0 }, (_, i) => Array.from({ length: t0 }, (_, j) => (i === j ? 1 : 0)));
  let prevPos = positions?.[0];
  attention.forEach((heads, l) => {
    if (positions && positions[l].length < prevPos!.length) {
      r = positions[l].map((p) => r[prevPos!.indexOf(p)]);
      prevPos = positions[l];
    }
    const kept = heads.filter((_, h) => headMask?.[l]?.[h] !== 0);
    if (kept.length === 0) return;
    const t = kept[0].length;
    const a = Array.from({ length: t }, (_, i) =>
      Array.from(
        { length: t },
        (_, j) => (0.5 * kept.reduce((s, ph) => s + ph[i][j], 0)) / kept.length + (i === j ? 0.5 : 0),
      ),
    );
    r = a.map((row) => {
      const out = r[0].map((_, k) => row.reduce((s, v, j) => s + v * r[j][k], 0));
      const sum = out.reduce((x, y) => x + y, 0);
      return out.map((v) => v / sum);
    });
  });
  return r;
}

function headMasks(c: ModelConfig): number[][] {
  const layers = c.kind === 'gpt2' ? c.nLayer : c.numLayers;
  const heads = c.kind === 'gpt2' ? c.nHead : c.numHeads;
  return Array.from({ length: layers }, (_, l) =>
    Array.from({ length: heads }, (_, h) => (l === 0 && h === 1 ? 0 : 1)),
  );
}

describe('attentionMaps', () => {
  it('equals the reference attention of GPT-2, causal rows summing to 1', async () => {
    const ref = referenceForward(gpt2, gpt2Host, ids);
    const maps = await attentionMaps(gpt2, gpt2Weights, ids);
    expect(maps.tokens).toBe(ids.length);
    expect(maps.layers).toHaveLength(gpt2.nLayer);
    for (const layer of maps.layers) {
      expect(layer.tokens).toBe(ids.length);
      expect(layer.positions).toBeNull();
      expect(layer.heads).toHaveLength(gpt2.nHead);
      for (const h of layer.heads) {
        expect(h.removed).toBe(false);
        const map = h.map!;
        expect(map).toHaveLength(ids.length * ids.length);
        expect(maxAbsDiff(map, ref.attention[layer.layer][h.head].flat())).toBeLessThan(TOL);
        for (let i = 0; i < ids.length; i++) {
          const row = map.subarray(i * ids.length, (i + 1) * ids.length);
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          for (let j = i + 1; j < ids.length; j++) expect(row[j]).toBe(0);
        }
      }
    }
  });

  it('equals the reference attention of ViT (CLS + patches), rows summing to 1', async () => {
    const ref = referenceForward(vit, vitHost, pixels);
    const maps = await attentionMaps(vit, vitWeights, pixels);
    const t = (vit.imageSize / vit.patchSize) ** 2 + 1;
    expect(maps.tokens).toBe(t);
    for (const layer of maps.layers) {
      for (const h of layer.heads) {
        expect(maxAbsDiff(h.map!, ref.attention[layer.layer][h.head].flat())).toBeLessThan(TOL);
        for (let i = 0; i < t; i++)
          expect(h.map!.subarray(i * t, (i + 1) * t).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
    }
  });

  it('accepts raw 0…255 pixels as the image processor normalises them', async () => {
    const raw = Uint8Array.from(pixels, (_, i) => (i * 37) % 256);
    const normalised = Float32Array.from(raw, (v) => (v * 2) / 255 - 1);
    const a = await attentionMaps(vit, vitWeights, raw);
    const b = await attentionMaps(vit, vitWeights, normalised);
    expect(maxAbsDiff(a.layers[1].heads[2].map!, b.layers[1].heads[2].map!)).toBeLessThan(1e-6);
  });

  it('reports removed heads and sublayers, and the masks change the later maps as in the reference', async () => {
    const heads = headMasks(gpt2);
    const masks: ModelMasks = { heads };
    const ref = referenceForward(gpt2, gpt2Host, ids, { heads });
    const plain = await attentionMaps(gpt2, gpt2Weights, ids);
    const masked = await attentionMaps(gpt2, gpt2Weights, ids, { masks });
    expect(masked.layers.map((l) => l.heads.map((h) => h.removed))).toEqual([
      [false, true],
      [false, false],
    ]);
    // A removed head still computes its map (what the mask throws away) …
    expect(maxAbsDiff(masked.layers[0].heads[1].map!, plain.layers[0].heads[1].map!)).toBeLessThan(1e-6);
    // … but without its output the next layer attends differently, exactly as in the reference.
    expect(maxAbsDiff(masked.layers[1].heads[0].map!, plain.layers[1].heads[0].map!)).toBeGreaterThan(1e-3);
    for (const layer of masked.layers) {
      for (const h of layer.heads)
        expect(maxAbsDiff(h.map!, ref.attention[layer.layer][h.head].flat())).toBeLessThan(TOL);
    }

    // A removed attention sublayer: every head removed, no maps.
    const noAttn = await attentionMaps(vit, vitWeights, pixels, { masks: { attention: [true, false] } });
    expect(noAttn.layers[1].attentionRemoved).toBe(true);
    expect(noAttn.layers[1].heads.every((h) => h.removed && h.map === null)).toBe(true);
    expect(noAttn.layers[0].heads.every((h) => !h.removed && h.map !== null)).toBe(true);
  });

  it('gives each block its kept tokens and their positions under token pruning, as the reference', async () => {
    const tokenKeep = [1, 0.5];
    const ref = referenceForward(vit, vitHost, pixels, {}, { tokenKeep });
    const maps = await attentionMaps(vit, vitWeights, pixels, { tokenKeep });
    expect(maps.layers.map((l) => l.tokens)).toEqual([5, 3]);
    expect(maps.layers.map((l) => l.positions)).toEqual(ref.positions);
    expect(maps.layers[1].positions![0]).toBe(0); // CLS kept
    for (const layer of maps.layers) {
      for (const h of layer.heads)
        expect(maxAbsDiff(h.map!, ref.attention[layer.layer][h.head].flat())).toBeLessThan(TOL);
    }
  });
});

describe('saliency: attention rollout', () => {
  it('equals the direct product over the reference attention (GPT-2: last row; ViT: CLS row over patches)', async () => {
    const g = await saliency(gpt2, gpt2Weights, ids);
    const rg = directRollout(referenceForward(gpt2, gpt2Host, ids).attention, undefined);
    expect(maxAbsDiff(g.rollout.raw, rg[ids.length - 1])).toBeLessThan(TOL);
    expect(Math.max(...g.rollout.normalized)).toBeCloseTo(1, 6);
    expect(Math.min(...g.rollout.normalized)).toBeGreaterThanOrEqual(0);

    const v = await saliency(vit, vitWeights, pixels);
    const rv = directRollout(referenceForward(vit, vitHost, pixels).attention, undefined);
    expect(maxAbsDiff(v.rollout.raw, rv[0].slice(1))).toBeLessThan(TOL);
    const max = Math.max(...rv[0].slice(1));
    expect(v.rollout.grid).toEqual([
      [v.rollout.normalized[0], v.rollout.normalized[1]],
      [v.rollout.normalized[2], v.rollout.normalized[3]],
    ]);
    expect(
      maxAbsDiff(
        v.rollout.normalized,
        rv[0].slice(1).map((x) => x / max),
      ),
    ).toBeLessThan(TOL);
  });

  it('averages over the kept heads only, skips removed sublayers, and follows token pruning', async () => {
    const heads = headMasks(gpt2);
    const g = await saliency(gpt2, gpt2Weights, ids, { masks: { heads } });
    const rg = directRollout(referenceForward(gpt2, gpt2Host, ids, { heads }).attention, heads);
    expect(maxAbsDiff(g.rollout.raw, rg[ids.length - 1])).toBeLessThan(TOL);

    const v = await saliency(vit, vitWeights, pixels, { masks: { attention: [false, true] } });
    const rv = directRollout(referenceForward(vit, vitHost, pixels, { attention: [false, true] }).attention, undefined);
    expect(maxAbsDiff(v.rollout.raw, rv[0].slice(1))).toBeLessThan(TOL);

    const tokenKeep = [1, 0.5];
    const refP = referenceForward(gpt2, gpt2Host, ids, {}, { tokenKeep });
    const p = await saliency(gpt2, gpt2Weights, ids, { tokenKeep });
    const rp = directRollout(refP.attention, undefined, refP.positions);
    expect(maxAbsDiff(p.rollout.raw, rp[rp.length - 1])).toBeLessThan(TOL);
    expect(p.gradientTimesInput).toBeNull();
  });
});

/** Host weights and input in which position t's embedding is a free parameter (the same trick, in plain TS). */
function gpt2WithEmbeddings(emb: number[][]): Map<string, HostTensor> {
  const w = new Map(gpt2Host);
  w.set(`${GPT2_PREFIX}wte.weight`, { shape: [emb.length, gpt2.nEmbd], data: Float32Array.from(emb.flat()) });
  w.set('lm_head.weight', gpt2Host.get(`${GPT2_PREFIX}wte.weight`)!);
  return w;
}

/** Central differences of f at x, coordinate by coordinate (float64 all through the reference). */
function fdGradient(x: number[], f: (x: number[]) => number, h = 1e-3): number[] {
  return x.map((_, e) => {
    const plus = x.slice();
    const minus = x.slice();
    plus[e] += h;
    minus[e] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

const norm = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + b * b, 0));

describe('saliency: gradient × input', () => {
  it('GPT-2: matches finite differences of the reference for a token, target = predicted next token', async () => {
    const d = gpt2.nEmbd;
    const wte = gpt2Host.get(`${GPT2_PREFIX}wte.weight`)!.data;
    const emb = ids.map((id) => Array.from(wte.subarray(id * d, (id + 1) * d)));
    const positions = ids.map((_, i) => i);
    const base = referenceForward(gpt2, gpt2Host, ids).logits;
    // The substitution reproduces the original model.
    expect(
      maxAbsDiff(referenceForward(gpt2, gpt2WithEmbeddings(emb), positions).logits.flat(), base.flat()),
    ).toBeLessThan(1e-9);
    const last = base[ids.length - 1];
    const predicted = last.indexOf(Math.max(...last));

    const s = await saliency(gpt2, gpt2Weights, ids);
    expect(s.target).toBe(predicted);
    expect(s.targetLogit).toBeCloseTo(last[predicted], 4);
    for (const t of [2, 9]) {
      const g = fdGradient(emb[t], (e) => {
        const m = emb.slice();
        m[t] = e;
        return referenceForward(gpt2, gpt2WithEmbeddings(m), positions).logits[ids.length - 1][predicted];
      });
      const expected = norm(g.map((v, e) => v * emb[t][e]));
      expect(s.gradientTimesInput!.raw[t]).toBeCloseTo(expected, 3);
      expect(Math.abs(s.gradientTimesInput!.raw[t] - expected) / expected).toBeLessThan(1e-3);
    }
    expect(s.gradientTimesInput!.raw).toHaveLength(ids.length);
    expect(Math.max(...s.gradientTimesInput!.normalized)).toBeCloseTo(1, 6);

    // A chosen target, under masks (tied head, masked embedding table): still the reference's gradient.
    const wteMask = Float32Array.from(randomArray(gpt2.vocabSize * d, 5), (v) => (v > -0.6 ? 1 : 0));
    const heads = headMasks(gpt2);
    const masks: ModelMasks = {
      heads,
      weights: new Map([[`${GPT2_PREFIX}wte.weight`, tf.tensor(wteMask, [gpt2.vocabSize, d])]]),
    };
    const refMasks: ReferenceMasks = { heads };
    const maskedHost = new Map(gpt2Host);
    const maskedWte = wte.map((v, i) => v * wteMask[i]);
    maskedHost.set(`${GPT2_PREFIX}wte.weight`, { shape: [gpt2.vocabSize, d], data: maskedWte });
    const memb = ids.map((id) => Array.from(maskedWte.subarray(id * d, (id + 1) * d)));
    const sm = await saliency(gpt2, gpt2Weights, ids, { masks, target: 4 });
    tf.dispose([...masks.weights!.values()]);
    expect(sm.target).toBe(4);
    const t = 6;
    const g = fdGradient(memb[t], (e) => {
      const m = memb.slice();
      m[t] = e;
      const w = gpt2WithEmbeddings(m);
      w.set('lm_head.weight', { shape: [gpt2.vocabSize, d], data: maskedWte });
      return referenceForward(gpt2, w, positions, refMasks).logits[ids.length - 1][4];
    });
    expect(
      Math.abs(sm.gradientTimesInput!.raw[t] - norm(g.map((v, e) => v * memb[t][e]))) /
        norm(g.map((v, e) => v * memb[t][e])),
    ).toBeLessThan(1e-3);
  });

  it('ViT: matches finite differences of the reference for a patch embedding, target = predicted class', async () => {
    const { numChannels: c, imageSize: s, patchSize: p, hiddenSize: d } = vit;
    const gsz = s / p;
    const n = gsz * gsz;
    const k = c * p * p;
    const w = vitHost.get('vit.embeddings.patch_embeddings.projection.weight')!.data; // [d, k]
    const b = vitHost.get('vit.embeddings.patch_embeddings.projection.bias')!.data;
    // Patch embeddings in plain TS (patch flattened as channel, row, column).
    const emb = Array.from({ length: n }, (_, q) => {
      const pr = Math.floor(q / gsz);
      const pc = q % gsz;
      const flat: number[] = [];
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < p; y++)
          for (let x = 0; x < p; x++) flat.push(pixels[ch * s * s + (pr * p + y) * s + pc * p + x]);
      return Array.from({ length: d }, (_, o) => b[o] + flat.reduce((acc, v, i) => acc + v * w[o * k + i], 0));
    });
    // Reference with the patch embeddings as free parameters: P_q on the hidden state by an
    // equivalent input — the projection sends basis image q to column q, here emb[q].
    const oneHotImage = new Float32Array(c * s * s);
    for (let q = 0; q < n; q++) {
      const pr = Math.floor(q / gsz);
      const pc = q % gsz;
      const ch = Math.floor(q / (p * p));
      const y = Math.floor((q % (p * p)) / p);
      const x = q % p;
      oneHotImage[ch * s * s + (pr * p + y) * s + pc * p + x] = 1;
    }
    const withEmb = (e: number[][]) => {
      const hw = new Map(vitHost);
      const wd = new Float32Array(d * k);
      e.forEach((row, q) => {
        row.forEach((v, o) => {
          wd[o * k + q] = v;
        });
      });
      hw.set('vit.embeddings.patch_embeddings.projection.weight', { shape: [d, c, p, p], data: wd });
      hw.set('vit.embeddings.patch_embeddings.projection.bias', { shape: [d], data: new Float32Array(d) });
      return referenceForward(vit, hw, oneHotImage).logits[0];
    };
    const base = referenceForward(vit, vitHost, pixels).logits[0];
    expect(maxAbsDiff(withEmb(emb), base)).toBeLessThan(1e-6); // the weights are stored as float32
    const predicted = base.indexOf(Math.max(...base));

    const sal = await saliency(vit, vitWeights, pixels);
    expect(sal.target).toBe(predicted);
    expect(sal.gradientTimesInput!.raw).toHaveLength(n);
    expect(sal.gradientTimesInput!.grid).toHaveLength(gsz);
    for (const q of [0, 3]) {
      const g = fdGradient(emb[q], (e) => {
        const m = emb.slice();
        m[q] = e;
        return withEmb(m)[predicted];
      });
      const expected = norm(g.map((v, o) => v * emb[q][o]));
      expect(Math.abs(sal.gradientTimesInput!.raw[q] - expected) / expected).toBeLessThan(1e-3);
    }
  });
});

describe('predictions', () => {
  it('ViT: class probabilities sum to 1 and are the softmax of the reference logits', async () => {
    const ref = softmax(referenceForward(vit, vitHost, pixels).logits[0]);
    const out = await predictClasses(vit, vitWeights, pixels, { topK: 3 });
    expect(out.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(maxAbsDiff(out.probs, ref)).toBeLessThan(1e-5);
    expect(out.top).toHaveLength(3);
    expect(out.top[0].prob).toBe(Math.max(...out.probs));
    expect(out.top[0].label).toBe(vit.labels[out.top[0].index]);
    expect(out.top[1].prob).toBeLessThanOrEqual(out.top[0].prob);

    // Masks (and token pruning) change the prediction exactly as in the reference.
    const heads = headMasks(vit);
    const refMasked = softmax(referenceForward(vit, vitHost, pixels, { heads }, { tokenKeep: [1, 0.5] }).logits[0]);
    const masked = await predictions(vit, vitWeights, pixels, { masks: { heads }, tokenKeep: [1, 0.5] });
    expect(maxAbsDiff(masked.probs, refMasked)).toBeLessThan(1e-5);
    expect(maxAbsDiff(masked.probs, ref)).toBeGreaterThan(1e-3);
  });

  it('GPT-2: next-token distribution is the softmax of the reference logits at the last position', async () => {
    const ref = referenceForward(gpt2, gpt2Host, ids).logits;
    const expected = softmax(ref[ids.length - 1]);
    const out = await predictNext(gpt2, gpt2Weights, ids, { topK: 4 });
    expect(out.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(maxAbsDiff(out.probs, expected)).toBeLessThan(1e-5);
    expect(out.top.map((e) => e.id)).toEqual(
      expected
        .map((p, i) => [p, i])
        .sort((a, b) => b[0] - a[0])
        .slice(0, 4)
        .map((e) => e[1]),
    );
    // A vocabulary of ≤ 256 without a tokenizer reads ids as bytes.
    for (const e of out.top) expect(e.bytes).toEqual([e.id]);
    expect(out.continuation).toBeUndefined();
  });

  it('GPT-2: the byte labels of a byte-level tokenizer', async () => {
    const tokenizer = {
      vocabSize: 37,
      encode: (s: string) => Array.from(new TextEncoder().encode(s)),
      decode: (t: number[]) => new TextDecoder().decode(Uint8Array.from(t.map((i) => [32, 10, 65, 9][i % 4]))),
      tokenToBytes: (i: number) => Uint8Array.of([32, 10, 65, 9][i % 4]),
    };
    const out = await predictNext(gpt2, gpt2Weights, ids, { topK: 37, tokenizer });
    const byId = new Map(out.top.map((e) => [e.id, e]));
    expect(byId.get(0)).toMatchObject({ bytes: [32], text: ' ', display: '␣' });
    expect(byId.get(1)).toMatchObject({ bytes: [10], text: '\n', display: '↵' });
    expect(byId.get(2)).toMatchObject({ bytes: [65], text: 'A', display: 'A' });
    expect(byId.get(3)?.display).toBe('⇥');
  });

  it('a continuation stops at the first step after its signal is aborted', async () => {
    const controller = new AbortController();
    let reads = 0;
    // Aborted at the third step's check: the sampler stops there instead of running all ten.
    const signal = new Proxy(controller.signal, {
      get: (target, key) => {
        if (key === 'throwIfAborted')
          return () => {
            if (++reads === 3) controller.abort();
            target.throwIfAborted();
          };
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    await expect(predictNext(gpt2, gpt2Weights, ids, { continuation: { steps: 10, seed: 1 }, signal })).rejects.toThrow(
      /abort/i,
    );
    expect(reads).toBe(3);
  });

  it('GPT-2: the seeded continuation is generate.ts’s, also through the token-pruning path', async () => {
    const c = { steps: 6, temperature: 0.9, seed: 42 };
    const direct = await generate(gpt2, gpt2Weights, ids, c);
    const out = await predictNext(gpt2, gpt2Weights, ids, { continuation: c });
    expect(out.continuation!.ids).toEqual(direct);
    expect(out.continuation!.text).toBe(new TextDecoder().decode(Uint8Array.from(direct)));
    const again = await predictNext(gpt2, gpt2Weights, ids, { continuation: c });
    expect(again.continuation!.ids).toEqual(direct);
    const viaPruned = await predictNext(gpt2, gpt2Weights, ids, { continuation: c, tokenKeep: [1, 1] });
    expect(viaPruned.continuation!.ids).toEqual(direct);
    // Under real token pruning the distribution is the reference's last row.
    const tokenKeep = [1, 0.5];
    const ref = referenceForward(gpt2, gpt2Host, ids, {}, { tokenKeep }).logits;
    const pruned = await predictNext(gpt2, gpt2Weights, ids, { tokenKeep, continuation: { steps: 3, seed: 1 } });
    expect(maxAbsDiff(pruned.probs, softmax(ref[ref.length - 1]))).toBeLessThan(1e-5);
    expect(pruned.continuation!.ids).toHaveLength(3);
  });
});
