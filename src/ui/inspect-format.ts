// Words for what the inspection views show: token names (CLS, patches by row and column, bytes by
// position) and the strongest entries of a map, for hover read-outs and text alternatives.
import type { InspectedInput } from '../workers/client';

/** The name of input token `pos`: ViT's CLS or patch (row, column), 1-based; a byte with its position. */
export function tokenName(input: InspectedInput, pos: number, tokens: number): string {
  if (input.kind === 'text') return `“${input.tokens[pos]?.display ?? '?'}” #${pos + 1}`;
  if (pos === 0) return 'CLS';
  const g = Math.round(Math.sqrt(tokens - 1));
  return `patch (${Math.floor((pos - 1) / g) + 1}, ${((pos - 1) % g) + 1})`;
}

export interface Entry {
  index: number;
  value: number;
}

/**
 * The `n` largest values, largest first (ties: lower index first). One pass keeping the best n in
 * order: every head's label asks for its strongest entry at each render, where sorting a map of
 * gpt-bytes' 128 × 128 entries per head cost the slider's render milliseconds.
 */
export function strongest(values: ArrayLike<number>, n: number): Entry[] {
  const top: Entry[] = [];
  if (n <= 0) return top;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    // Equal values arrive in index order, so a tie never displaces an earlier entry.
    if (top.length === n) {
      if (!(value > top[n - 1].value)) continue;
      top.pop();
    }
    let at = top.length;
    while (at > 0 && value > top[at - 1].value) at--;
    top.splice(at, 0, { index, value });
  }
  return top;
}

/** A t × t row-major map's entry `index` as (query, key). */
export const queryKey = (index: number, t: number) => ({ query: Math.floor(index / t), key: index % t });
