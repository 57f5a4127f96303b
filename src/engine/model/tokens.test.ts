// Dynamic token pruning: the count rule, the plain-TS selection against the TensorFlow.js one, the
// forward pass against the reference twin, and the FLOPs the cost model counts.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { parseConfig, type Gpt2Config, type VitConfig } from './config';
import { costReport } from './cost';
import { forward } from './forward';
import { referenceForward } from './reference';
import { randomArray, randomHostWeights, TINY_GPT2_CONFIG, TINY_VIT_CONFIG, maxAbsDiff } from './tiny-models';
import { toTfWeights } from './weights';
import {
  attentionReceived,
  attentionReceivedTf,
  keptTokenCount,
  selectTokens,
  selectTokensTf,
  tokenCounts,
  tokenKeepFrom,
} from './tokens';

// Importing the WASM backend makes it the default; these tests run on the CPU backend but one.
await tf.setBackend('cpu');

const TOL = 1e-4;

// Three blocks so pruning happens twice; sizes otherwise the tiny models'.
const gpt = parseConfig({ ...TINY_GPT2_CONFIG, n_layer: 3 }) as Gpt2Config;
const gptHost = randomHostWeights(gpt, 11, 0.5);
const gptWeights = toTfWeights(gptHost);
// 16 patches + CLS.
const vit = parseConfig({ ...TINY_VIT_CONFIG, num_hidden_layers: 3, image_size: 16 }) as VitConfig;
const vitHost = randomHostWeights(vit, 12, 0.5);
const vitWeights = toTfWeights(vitHost);
const seqs = [
  [3, 36, 0, 17, 5, 5, 22, 9, 1, 30, 12, 4, 8, 19],
  [7, 7, 2, 33, 14, 0, 29, 21, 6, 11, 18, 25, 3, 1],
];

describe('token counts', () => {
  it('keeps the protected token plus round(r·(n − 1)) others, compounding block to block', () => {
    expect(keptTokenCount(17, 0.5)).toBe(9);
    expect(keptTokenCount(17, 0)).toBe(1);
    expect(keptTokenCount(17, 1)).toBe(17);
    expect(keptTokenCount(1, 0.3)).toBe(1);
    // Block 0 is never pruned; 17 → 1 + round(0.7·16) = 12 → 1 + round(0.7·11) = 9.
    expect(tokenCounts(vit, [0.7, 0.7, 0.7])).toEqual([17, 12, 9]);
    expect(tokenKeepFrom(4, 2, 0.5)).toEqual([1, 1, 0.5, 0.5]);
    expect(tokenKeepFrom(3, 0, 0.5)).toEqual([1, 0.5, 0.5]);
    expect(() => tokenCounts(vit, [1, 1.2, 1])).toThrow(/\[0, 1\]/);
  });

  it('does not prune after a block that computed no attention', () => {
    expect(tokenCounts(gpt, [1, 0.5, 0.5], { masks: { attention: [false, true, true] } })).toEqual([16, 16, 9]);
    expect(
      tokenCounts(gpt, [1, 0.5, 0.5], {
        masks: {
          heads: [
            [1, 1],
            [0, 0],
            [1, 1],
          ],
        },
      }),
    ).toEqual([16, 9, 9]);
    expect(tokenCounts(gpt, [1, 0.5, 0.5], { seq: 14 })).toEqual([14, 8, 5]);
  });
});

describe('token selection', () => {
  // Random attention probabilities [B, H, T, T], causal or not.
  function randomProbs(b: number, h: number, t: number, causal: boolean, seed: number): tf.Tensor4D {
    return tf.tidy(() => {
      let s = tf.tensor4d(randomArray(b * h * t * t, seed, 3), [b, h, t, t]);
      if (causal) s = tf.add(s, tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0)), -1e9));
      return tf.softmax(s, -1) as tf.Tensor4D;
    });
  }

  for (const kind of ['cls', 'last-query', 'column-sum'] as const) {
    it(`TensorFlow.js equals the plain-TS reference (${kind})`, async () => {
      const [b, h, t] = [3, 4, 11];
      const probs = randomProbs(b, h, t, kind !== 'cls', 21);
      const arr = (await probs.array()) as number[][][][];
      const headMask = [1, 0, 1, 1];
      const scores = await attentionReceivedTf(probs, kind, headMask).array();
      const protect = kind === 'cls' ? 0 : t - 1;
      const chosen = await selectTokensTf(tf.tensor2d(scores), 5, protect).array();
      for (let i = 0; i < b; i++) {
        const ref = attentionReceived(arr[i], kind, headMask);
        expect(maxAbsDiff(scores[i], ref)).toBeLessThan(1e-5);
        expect(chosen[i]).toEqual(selectTokens(ref, 5, protect));
        expect(chosen[i]).toContain(protect);
      }
      // Direct reading of the definition for one example: the CLS row, the last query's row or the
      // column sums, mean over the kept heads.
      const queries = { cls: [0], 'last-query': [t - 1], 'column-sum': Array.from({ length: t }, (_, q) => q) }[kind];
      const direct = Array.from({ length: t }, (_, j) => {
        let s = 0;
        for (const hh of [0, 2, 3]) for (const q of queries) s += arr[1][hh][q][j];
        return s / 3;
      });
      expect(maxAbsDiff(scores[1], direct)).toBeLessThan(1e-5);
    });
  }

  it('TensorFlow.js top-k selection equals the reference on many random score vectors', async () => {
    // Regression: an Infinity sentinel for the protected token broke tfjs's top-k partitioning.
    for (let seed = 1; seed <= 60; seed++) {
      const t = 5 + (seed % 23);
      const rows = [randomArray(t, seed), randomArray(t, seed + 1000)].map((r) => Array.from(r, Math.abs));
      const keep = 1 + (seed % (t - 1));
      const protect = seed % 2 ? 0 : t - 1;
      const got = await selectTokensTf(tf.tensor2d(rows), keep, protect).array();
      rows.forEach((r, i) => {
        expect(got[i]).toEqual(selectTokens(r, keep, protect));
      });
    }
  });

  it('breaks ties towards the earlier token and never drops the protected one', () => {
    expect(selectTokens([0.1, 0.5, 0.5, 0.5, 0.9], 3, 4)).toEqual([1, 2, 4]);
    expect(selectTokens([0.1, 0.5, 0.5, 0.5, 0.9], 3, 0)).toEqual([0, 1, 4]);
    expect(selectTokens([0.9, 0.5, 0.2], 1, 2)).toEqual([2]);
  });
});

describe('token pruning in the forward pass', () => {
  const ids = tf.tensor2d(seqs, [2, 14], 'int32');

  it('keep ratio 1 is the unpruned forward exactly', async () => {
    const dense = await forward(gpt, gptWeights, ids).logits.data();
    const out = forward(gpt, gptWeights, ids, { tokenKeep: [1, 1, 1] });
    expect(await out.logits.data()).toEqual(dense);
    expect(await out.tokenPositions![2].array()).toEqual([
      Array.from({ length: 14 }, (_, i) => i),
      Array.from({ length: 14 }, (_, i) => i),
    ]);
    const pixels = tf.tensor4d(randomArray(2 * 2 * 16 * 16, 3), [2, 2, 16, 16]);
    expect(await forward(vit, vitWeights, pixels, { tokenKeep: [1, 1, 1] }).logits.data()).toEqual(
      await forward(vit, vitWeights, pixels).logits.data(),
    );
  });

  for (const tokenScoring of ['last-query', 'column-sum'] as const)
    it(`GPT-2 (${tokenScoring}): the tokens kept and the logits equal the reference, the last position always survives`, async () => {
      const keep = [1, 0.6, 0.5];
      const counts = tokenCounts(gpt, keep, { seq: 14 }); // 14 → 9 → 5
      expect(counts).toEqual([14, 9, 5]);
      const out = forward(gpt, gptWeights, ids, { tokenKeep: keep, tokenScoring });
      expect(out.logits.shape).toEqual([2, 5, gpt.vocabSize]);
      const got = (await out.logits.array()) as number[][][];
      for (let b = 0; b < 2; b++) {
        const ref = referenceForward(gpt, gptHost, seqs[b], {}, { tokenKeep: keep, tokenScoring });
        for (let l = 0; l < 3; l++)
          expect(((await out.tokenPositions![l].array()) as number[][])[b]).toEqual(ref.positions![l]);
        expect(ref.positions![2]).toContain(13);
        expect(ref.positions![2].at(-1)).toBe(13);
        expect(maxAbsDiff(got[b].flat(), ref.logits.flat())).toBeLessThan(TOL);
      }
      // The two sequences keep different tokens: selection is per example.
      const pos = (await out.tokenPositions![2].array()) as number[][];
      expect(pos[0]).not.toEqual(pos[1]);
      // Keep ratio 0 leaves only the last position.
      const only = forward(gpt, gptWeights, ids, { tokenKeep: [1, 0, 0] });
      expect(await only.tokenPositions![2].array()).toEqual([[13], [13]]);
    });

  it('GPT-2 under head masks averages over the kept heads only, as the reference', async () => {
    const masks = {
      heads: [
        [0, 1],
        [1, 1],
        [1, 0],
      ],
    };
    const keep = [1, 0.5, 0.5];
    const out = forward(gpt, gptWeights, ids, { tokenKeep: keep, masks });
    const ref = referenceForward(gpt, gptHost, seqs[0], masks, { tokenKeep: keep });
    expect(((await out.tokenPositions![1].array()) as number[][])[0]).toEqual(ref.positions![1]);
    expect(maxAbsDiff(((await out.logits.array()) as number[][][])[0].flat(), ref.logits.flat())).toBeLessThan(TOL);
  });

  it('ViT: CLS is never dropped and the class logits equal the reference', async () => {
    const per = 2 * 16 * 16;
    const images = [randomArray(per, 31), randomArray(per, 32)];
    const pixels = tf.tensor4d(new Float32Array([...images[0], ...images[1]]), [2, 2, 16, 16]);
    for (const keep of [
      [1, 0.5, 0.5],
      [1, 0, 1],
      [0.3, 0.7, 0.2],
    ]) {
      const out = forward(vit, vitWeights, pixels, { tokenKeep: keep });
      const got = (await out.logits.array()) as number[][];
      for (let b = 0; b < 2; b++) {
        const ref = referenceForward(vit, vitHost, images[b], {}, { tokenKeep: keep });
        for (let l = 0; l < 3; l++) {
          const p = ((await out.tokenPositions![l].array()) as number[][])[b];
          expect(p).toEqual(ref.positions![l]);
          expect(p[0]).toBe(0);
          expect(p.length).toBe(tokenCounts(vit, keep)[l]);
        }
        expect(maxAbsDiff(got[b], ref.logits[0])).toBeLessThan(TOL);
      }
    }
  });

  it('gives the same tokens and logits on the WASM backend for a batch of many examples', async () => {
    // tf.gather with batchDims is wrong on WASM (tensorflow/tfjs#8658); the forward must not use it.
    const per = 2 * 16 * 16;
    const n = 10;
    const pixels = randomArray(n * per, 41);
    const keep = [1, 0.5, 0.5];
    const run = async () => {
      const out = forward(vit, toTfWeights(vitHost), tf.tensor4d(pixels, [n, 2, 16, 16]), { tokenKeep: keep });
      return { logits: await out.logits.data(), positions: await out.tokenPositions![2].data() };
    };
    const onCpu = await run();
    await tf.setBackend('wasm');
    try {
      const onWasm = await run();
      expect([...onWasm.positions]).toEqual([...onCpu.positions]);
      expect(maxAbsDiff(onWasm.logits, onCpu.logits)).toBeLessThan(TOL);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('token pruning costs', () => {
  it('the FLOPs fall by the dropped tokens of every linear, attention product and the LM head', () => {
    const c = parseConfig(TINY_GPT2_CONFIG) as Gpt2Config; // T 16, d 16, inner 24, V 37, 2 blocks
    const tokens = tokenCounts(c, [1, 0.5]);
    expect(tokens).toEqual([16, 9]); // 1 + round(0.5 · 15)
    const dense = costReport(c);
    const r = costReport(c, { tokens });
    const [d, inner, V] = [16, 24, 37];
    const block = (t: number) => 2 * t * (d * 3 * d + d * d + d * inner + inner * d) + 4 * t * t * d;
    const head = (t: number) => 2 * t * d * V;
    expect(r.flops).toBe(block(16) + block(9) + head(9));
    expect(dense.flops - r.flops).toBe(block(16) - block(9) + head(16) - head(9));
    expect(r.denseFlops).toBe(dense.denseFlops);
    expect(r.blocks.map((b) => b.tokens)).toEqual([16, 9]);

    const v = parseConfig(TINY_VIT_CONFIG) as VitConfig; // 4 patches + CLS, d 12, inner 20
    const vt = tokenCounts(v, [1, 0.5]);
    expect(vt).toEqual([5, 3]);
    const vb = (t: number) => 2 * t * (4 * 12 * 12 + 2 * 12 * 20) + 4 * t * t * 12;
    expect(costReport(v).flops - costReport(v, { tokens: vt }).flops).toBe(vb(5) - vb(3));
  });
});
