// What of a structural removal an exported config.json can say, so the export can be physically
// smaller there and stay a model `transformers` builds from its config alone:
// - FFN neurons: one intermediate width for every block (n_inner, intermediate_size), so they are
//   cut only when every exported block keeps the same number of neurons;
// - Llama-family heads: num_attention_heads, num_key_value_heads and head_dim are one per model, so
//   heads are cut only when every exported block keeps the same key/value heads count, each with the
//   same number of query heads (whole groups go, or the same share of every group). GPT-2 and ViT
//   derive the head width from hidden / heads, so fewer heads cannot be written in their configs
//   (GPT-2's opt-in "pruned_heads" is the HeadRemover's business).
// Anything else stays zeroed, which computes the same, and the reason goes into recipe.json.
import { ffnSize, headDim, numHeads, numKvHeads, type ModelConfig } from '../model/config';
import type { StructureMasks } from '../model/kept';

export interface UniformCut {
  /** config.json fields to change. */
  config: Record<string, number>;
  /** Units to cut, by exported block (empty: nothing to cut). */
  masks: StructureMasks;
  neurons: 'zeroed' | 'removed' | 'none';
  heads: 'zeroed' | 'removed' | 'none';
  notes: string[];
}

const keptCount = (row: number[] | undefined, n: number) => (row ? row.filter((v) => v !== 0).length : n);

export function uniformCut(config: ModelConfig, s: StructureMasks | undefined, map: (number | null)[]): UniformCut {
  const out: UniformCut = { config: {}, masks: {}, neurons: 'none', heads: 'none', notes: [] };
  if (!s) return out;
  const blocks = map.flatMap((to, l) => (to === null ? [] : [l]));

  const ffn = ffnSize(config);
  const neurons = blocks.map((l) => (s.mlp?.[l] === false ? 0 : keptCount(s.neurons?.[l], ffn)));
  if (neurons.some((n) => n < ffn)) {
    const same = neurons.every((n) => n === neurons[0]) && neurons[0] > 0;
    if (same) {
      out.neurons = 'removed';
      out.masks.neurons = blocks.map((l) => s.neurons![l]);
      out.config[config.kind === 'gpt2' ? 'n_inner' : 'intermediate_size'] = neurons[0];
      out.notes.push(`FFN neurons are cut out: every block keeps ${neurons[0]} of ${ffn} (config's FFN width)`);
    } else {
      out.neurons = 'zeroed';
      out.notes.push(
        `FFN neurons are zeroed, not cut: the blocks keep ${[...new Set(neurons)].join(', ')} neurons (a removed FFN sublayer keeps 0), and config.json has one FFN width for every block`,
      );
    }
  }

  const h = numHeads(config);
  const headRows = blocks.map((l) =>
    s.attention?.[l] === false ? new Array(h).fill(0) : (s.heads?.[l] ?? new Array(h).fill(1)),
  );
  if (!headRows.some((row) => row.some((v) => v === 0))) return out;
  if (config.kind !== 'llama') {
    out.heads = 'zeroed';
    return out;
  }
  const kv = numKvHeads(config);
  const group = h / kv;
  // Per block: the query heads kept in each key/value group.
  const perGroup = headRows.map((row) =>
    Array.from({ length: kv }, (_, g) => row.slice(g * group, (g + 1) * group).filter((v) => v !== 0).length),
  );
  const sizes = new Set(perGroup.flat().filter((n) => n > 0));
  const kvKept = perGroup.map((groups) => groups.filter((n) => n > 0).length);
  const uniform = sizes.size === 1 && kvKept.every((n) => n === kvKept[0]) && kvKept[0] > 0;
  if (!uniform) {
    out.heads = 'zeroed';
    out.notes.push(
      'attention heads are zeroed, not cut: config.json has one number of query and key/value heads for every block, and the blocks keep different ones (or groups of different sizes, or no attention at all)',
    );
    return out;
  }
  const [g] = [...sizes];
  out.heads = 'removed';
  out.masks.heads = headRows;
  out.config.num_attention_heads = kvKept[0] * g;
  out.config.num_key_value_heads = kvKept[0];
  out.config.head_dim = headDim(config);
  out.notes.push(
    `attention heads are cut out: every block keeps ${kvKept[0]} key/value heads of ${kv}, each serving ${g} query heads (of ${group})`,
  );
  return out;
}
