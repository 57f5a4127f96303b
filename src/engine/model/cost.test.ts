import { describe, expect, it } from 'vitest';
import { costReport, keptStructure } from './cost';
import { randomHostWeights, tinyGpt2, tinyVit } from './tiny-models';

describe('cost model', () => {
  it('counts GPT-2 parameters and FLOPs by hand', () => {
    const c = tinyGpt2(); // V 37, P 16, d 16, L 2, H 2, inner 24
    const r = costReport(c);
    const host = randomHostWeights(c, 1);
    const stored = [...host.values()].reduce((a, t) => a + t.data.length, 0);
    expect(r.params).toBe(stored);
    expect(r.nonzeroParams).toBe(stored);
    const T = 16,
      d = 16,
      inner = 24,
      V = 37;
    const perBlockLinear = 2 * T * (d * 3 * d + d * d + d * inner + inner * d);
    const perBlockAttn = 4 * T * T * d;
    expect(r.denseFlops).toBe(2 * (perBlockLinear + perBlockAttn) + 2 * T * d * V);
    expect(r.flops).toBe(r.denseFlops);
  });

  it('counts ViT FLOPs with the patch embedding over patches and the classifier over CLS only', () => {
    const c = tinyVit(); // image 8, patch 4 → 4 patches + CLS; d 12; inner 20; 5 labels; 2 channels
    const r = costReport(c);
    const T = 5,
      d = 12,
      inner = 20;
    const block = 2 * T * (4 * d * d + 2 * d * inner) + 4 * T * T * d;
    expect(r.denseFlops).toBe(2 * 4 * (2 * 16) * d + 2 * block + 2 * d * 5);
    expect(r.params).toBe([...randomHostWeights(c, 1).values()].reduce((a, t) => a + t.data.length, 0));
  });

  it('removing a head removes its q/k/v columns, its output rows and its attention products', () => {
    const c = tinyGpt2();
    const dense = costReport(c);
    const r = costReport(c, {
      heads: [
        [0, 1],
        [1, 1],
      ],
    });
    const T = 16,
      d = 16,
      dh = 8;
    const linearSaved = 2 * T * (3 * d * dh + dh * d);
    const attnSaved = 4 * T * T * dh;
    expect(dense.flops - r.flops).toBe(linearSaved + attnSaved);
    expect(dense.nonzeroParams - r.nonzeroParams).toBe(3 * d * dh + 3 * dh + dh * d);
    expect(r.denseFlops).toBe(dense.denseFlops);
    expect(
      keptStructure(
        c,
        {
          heads: [
            [0, 1],
            [1, 1],
          ],
        },
        0,
      ),
    ).toEqual({ heads: 1, neurons: 24 });
  });

  it('removing a block leaves only embeddings, norms and head costs of the others', () => {
    const c = tinyGpt2();
    const dense = costReport(c);
    const r = costReport(c, { attention: [true, false], mlp: [true, false] });
    expect(dense.flops - r.flops).toBe(dense.blocks[1].flops);
    expect(r.blocks[1].flops).toBe(0);
    expect(r.blocks[1].nonzero).toBe(0);
  });

  it('counts exactly the kept weights of a per-weight mask, and scales with fewer tokens', () => {
    const c = tinyGpt2();
    const name = 'transformer.h.0.mlp.c_fc.weight'; // [16, 24]
    const mask = new Uint8Array(16 * 24);
    for (let i = 0; i < mask.length; i += 3) mask[i] = 1; // 128 kept
    const r = costReport(c, { weights: new Map([[name, mask]]) });
    const lin = r.linears.find((x) => x.weight === name)!;
    expect(lin.nonzero).toBe(128 + 24);
    expect(lin.flops).toBe(2 * 128 * 16);
    const half = costReport(c, { tokens: [8, 8] });
    expect(half.blocks[0].attentionFlops).toBe(2 * 8 * (16 * 48 + 16 * 16) + 4 * 8 * 8 * 16);
  });
});
