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

/** The `n` largest values, largest first (ties: lower index first). */
export function strongest(values: ArrayLike<number>, n: number): Entry[] {
  return Array.from({ length: values.length }, (_, index) => ({ index, value: values[index] }))
    .sort((a, b) => b.value - a.value || a.index - b.index)
    .slice(0, n);
}

/** A t × t row-major map's entry `index` as (query, key). */
export const queryKey = (index: number, t: number) => ({ query: Math.floor(index / t), key: index % t });
