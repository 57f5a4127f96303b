// Structured masks from per-layer scores ([layer][unit], higher = more important), for heads and
// FFN neurons alike. Exact and deterministic as ../select.ts: equal scores are broken by position
// (the later unit goes first), NaN ranks below every number.
import { better } from '../select';

/** How much to remove: a fraction of all units, or an explicit count per layer. */
export type StructuredAmount = { ratio: number } | { perLayer: number[] };

/**
 * 'layer': every layer loses round(ratio · its units); 'global': the round(ratio · all units)
 * lowest scores over all layers go, so layers lose different amounts (scores must be comparable
 * across layers — see normalizePerLayer).
 */
export type StructuredScope = 'layer' | 'global';

/** A [layer][unit] 0/1 mask. */
export type UnitMask = number[][];

/**
 * Removes the lowest-scoring units. A ratio below 1 never empties a layer: its best unit stays
 * (emptying a layer is a sublayer removal — ask for it with ratio 1, explicit counts, or the
 * block/sublayer methods). Explicit per-layer counts are taken as given, in either scope.
 */
export function maskFromScores(
  scores: number[][],
  amount: StructuredAmount,
  scope: StructuredScope = 'layer',
): UnitMask {
  const mask = scores.map((row) => row.map(() => 1));
  if ('perLayer' in amount) {
    if (amount.perLayer.length !== scores.length)
      throw new Error(`perLayer: ${amount.perLayer.length} counts for ${scores.length} layers`);
    scores.forEach((row, l) => {
      const k = amount.perLayer[l];
      if (!Number.isInteger(k) || k < 0 || k > row.length)
        throw new Error(`layer ${l}: cannot remove ${k} of ${row.length}`);
      for (const i of worstFirst(row).slice(0, k)) mask[l][i] = 0;
    });
    return mask;
  }
  const { ratio } = amount;
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`ratio must be in [0, 1], got ${ratio}`);
  const floor = ratio === 1 ? 0 : 1; // units a layer keeps at least
  if (scope === 'layer') {
    scores.forEach((row, l) => {
      const k = Math.min(Math.round(ratio * row.length), row.length - floor);
      for (const i of worstFirst(row).slice(0, k)) mask[l][i] = 0;
    });
    return mask;
  }
  const flat = scores.flat();
  const where = scores.flatMap((row, l) => row.map((_, i) => [l, i] as const));
  let left = Math.round(ratio * flat.length);
  const kept = scores.map((row) => row.length);
  for (const f of worstFirst(flat)) {
    if (left === 0) break;
    const [l, i] = where[f];
    if (kept[l] <= floor) continue;
    mask[l][i] = 0;
    kept[l]--;
    left--;
  }
  return mask;
}

/** Indices from the lowest score up (the reverse of ../select.ts's best-first order). */
function worstFirst(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => better(scores, b, a));
}

/**
 * Divides each layer's scores by their ℓ2 norm, so that layers of different scale compete fairly
 * in a global ranking — what Michel et al. (2019) do to head importances before pruning globally
 * (after Molchanov et al. 2017). A layer of zeros stays zero.
 */
export function normalizePerLayer(scores: number[][]): number[][] {
  return scores.map((row) => {
    const finite = row.filter(Number.isFinite);
    const norm = Math.sqrt(finite.reduce((a, v) => a + v * v, 0));
    return norm > 0 ? row.map((v) => v / norm) : row.slice();
  });
}

/** Units kept per layer. */
export function keptPerLayer(mask: UnitMask): number[] {
  return mask.map((row) => row.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0));
}
