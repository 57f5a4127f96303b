// Handing a recipe over to a tool that runs on the user's own cluster, for a model too large for the
// browser: llm-compressor's `oneshot` (weight pruning: SparseGPT, Wanda, magnitude) and
// Torch-Pruning's BasePruner (structured: heads, FFN neurons; removed blocks listed beside it).
//
// The field names are the tools' own, read from their source:
//   llm-compressor 0.13.0 (vllm-project/llm-compressor; the fields below are unchanged from the tag to
//     commit ab1ba3ef of 2026-08-22): SparsityModifierBase in
//     modifiers/pruning/sparsegpt/sgpt_base.py (sparsity, sparsity_profile, mask_structure, owl_m,
//     owl_lmbda, targets, ignore), SparseGPTModifier (block_size, dampening_frac,
//     preserve_sparsity_mask, offload_hessians), WandaPruningModifier, MagnitudePruningModifier
//     (targets, init_sparsity, final_sparsity, update_scheduler, mask_structure, leave_enabled,
//     apply_globally) and Modifier (start, end, update; extra fields forbidden).
//   Torch-Pruning 1.6.1 (VainF/Torch-Pruning, tag v1.6.1, commit e80127d7): the keyword arguments of
//     torch_pruning.pruner.BasePruner (pruning_ratio, pruning_ratio_dict, ignored_layers, num_heads,
//     prune_num_heads, prune_head_dims, head_pruning_ratio, head_pruning_ratio_dict, global_pruning,
//     round_to) and the importance classes of torch_pruning.pruner.importance.
//
// What each tool cannot do is refused here, naming the workbench's choice and the tool, so the CLI
// exits 2 before it prunes anything. The tables are keyed by the catalogue's ids (Record<MethodId, …>),
// so a new catalogue entry does not compile until its handover is stated. Plain data and pure
// functions: the page may import this module.
import { stringify } from 'yaml';
import { headDim, numHeads, numKvHeads, numLayers, type ModelConfig } from '../model/config';
import type { StructureMasks } from '../model/kept';
import { blockPrefix, linearSpecs, type LinearRole } from '../model/schema';
import {
  type Choices,
  granularityEntry,
  methodEntry,
  quantizerEntry,
  type MethodId,
  RecipeError,
  scopeEntry,
  type StructuredScoreId,
  STRUCTURED_SCORES,
  type GranularityId,
  familyOf,
  allocationEntry,
} from '../pruning/catalogue';
import { choicesOf, type PruneRecipe, type StructuredRecipe } from '../pruning/recipe';

export type HandoverTool = 'llm-compressor' | 'torch-pruning';

export interface HandoverEntry {
  id: HandoverTool;
  label: string;
  summary: string;
  paper: null;
  implements: string;
  /** The file written next to the exported checkpoint. */
  file: string;
  /** The release whose fields the file uses, and where they were read. */
  version: string;
  source: string;
}

export const LLM_COMPRESSOR_VERSION = '0.13.0';
export const TORCH_PRUNING_VERSION = '1.6.1';

export const HANDOVERS: readonly HandoverEntry[] = [
  {
    id: 'llm-compressor',
    label: 'llm-compressor',
    summary: 'A recipe.yaml that llm-compressor’s oneshot runs on the full model: SparseGPT, Wanda or magnitude.',
    paper: null,
    implements:
      'the method’s modifier with the sparsity (one value or one per block), mask_structure, targets and ignore; language models only',
    file: 'recipe.yaml',
    version: LLM_COMPRESSOR_VERSION,
    source: 'vllm-project/llm-compressor 0.13.0 (fields unchanged to commit ab1ba3ef)',
  },
  {
    id: 'torch-pruning',
    label: 'Torch-Pruning',
    summary:
      'A torch_pruning.yaml of BasePruner’s arguments: per-layer head and FFN-channel pruning ratios, ignored layers, removed blocks.',
    paper: null,
    implements:
      'the ratios the workbench reached in each block, keyed by module name, with the nearest importance criterion; removed blocks listed for deletion before pruning',
    file: 'torch_pruning.yaml',
    version: TORCH_PRUNING_VERSION,
    source: 'VainF/Torch-Pruning v1.6.1 (commit e80127d7)',
  },
];

export const handoverEntry = (id: string): HandoverEntry => {
  const e = HANDOVERS.find((h) => h.id === id);
  if (!e)
    throw new RecipeError(`unknown recipe format "${id}" (expected one of: ${HANDOVERS.map((h) => h.id).join(', ')})`);
  return e;
};

// ---- What maps to what ----

/** llm-compressor's modifier per method, or why there is none. */
const LLMC_MODIFIER: Record<MethodId, { modifier: string } | { none: string }> = {
  sparsegpt: { modifier: 'SparseGPTModifier' },
  wanda: { modifier: 'WandaPruningModifier' },
  magnitude: { modifier: 'MagnitudePruningModifier' },
  random: { none: 'llm-compressor has no random pruning modifier' },
  taylor: { none: 'llm-compressor has no gradient-based (Taylor) pruning modifier' },
  'taylor-mean': { none: 'llm-compressor has no gradient-based (Taylor) pruning modifier' },
};

/** Torch-Pruning's importance class per structured score, or why none comes close. */
const TP_IMPORTANCE: Record<
  StructuredScoreId,
  { importance: string; args: Record<string, unknown> } | { none: string }
> = {
  // The output norm is an activation measure; the group's weight norm is Torch-Pruning's magnitude baseline.
  norm: { importance: 'GroupMagnitudeImportance', args: { p: 2 } },
  taylor: { importance: 'GroupTaylorImportance', args: {} },
  entropy: { none: 'Torch-Pruning has no attention-entropy importance' },
  activation: { importance: 'ActivationImportance', args: { p: 2 } },
  // Blocks and sublayers are not ranked by Torch-Pruning: the workbench's choice is listed.
  'angular-window': { importance: 'GroupMagnitudeImportance', args: { p: 2 } },
  angular: { importance: 'GroupMagnitudeImportance', args: { p: 2 } },
  influence: { importance: 'GroupMagnitudeImportance', args: { p: 2 } },
  finercut: { none: 'Torch-Pruning prunes channels and heads; it cannot remove an attention or FFN sublayer alone' },
  cls: { none: 'token pruning changes no weights, and Torch-Pruning prunes weights' },
  'last-query': { none: 'token pruning changes no weights, and Torch-Pruning prunes weights' },
  'column-sum': { none: 'token pruning changes no weights, and Torch-Pruning prunes weights' },
};

const TP_GRANULARITIES: readonly GranularityId[] = ['heads', 'neurons', 'blocks'];

const quote = (label: string) => `“${label}”`;

/**
 * Why the choices cannot be handed over to the tool, naming both sides; null when they can. The
 * config, when given, adds what depends on the architecture (GPT-2's fused q/k/v, grouped-query
 * attention). The catalogue's own refusal comes first: call this on choices it accepts.
 */
export function handoverRefusal(tool: HandoverTool, c: Choices, config?: ModelConfig): string | null {
  const g = granularityEntry(c.granularity);
  const h = handoverEntry(tool);
  if (tool === 'llm-compressor') {
    if (!g.usesMethod)
      return `${quote(g.label)} removes ${g.unit}; llm-compressor’s pruning modifiers sparsify weights (hand it over with --recipe torch-pruning)`;
    if (c.family !== 'causal-lm')
      return `llm-compressor’s oneshot calibrates language models; an image model’s weight pruning has no ${h.label} recipe`;
    if (c.quantizer)
      return `the ${h.label} recipe written here prunes only: the quantization (${quote(quantizerEntry(c.quantizer).label)}) would be lost (hand over the recipe without --bits, or export the quantized model with --packed gptq)`;
    const method = methodEntry(c.method ?? 'magnitude');
    const m = LLMC_MODIFIER[method.id];
    if ('none' in m) return `${quote(method.label)} cannot be handed over: ${m.none}`;
    const scope = c.granularity === 'nm' ? null : (c.scope ?? method.scopes[0]);
    // Wanda's modifier compares within each output row, SparseGPT's and magnitude's within each layer.
    const own = method.id === 'wanda' ? 'row' : 'layer';
    if (scope !== null && scope !== own)
      return `${h.label}’s ${m.modifier} selects ${quote(scopeEntry(own).label)}; a ${quote(scopeEntry(scope).label)} scope cannot be handed over`;
    if (method.id === 'magnitude') {
      if (c.granularity === 'nm')
        return `${h.label}’s MagnitudePruningModifier makes unstructured masks only; ${quote(g.label)} cannot be handed over with ${quote(method.label)} (Wanda and SparseGPT can)`;
      if (c.allocation !== undefined && c.allocation !== 'uniform')
        return `${h.label}’s MagnitudePruningModifier prunes every layer to one sparsity; the ${quote(allocationEntry(c.allocation).label)} allocation cannot be handed over with ${quote(method.label)}`;
      if (c.perBlock)
        return `${h.label}’s MagnitudePruningModifier prunes every layer to one sparsity; per-block sparsity cannot be handed over with ${quote(method.label)}`;
    }
    return null;
  }
  if (g.usesMethod)
    return `${quote(g.label)} zeroes single weights; Torch-Pruning removes structures (hand it over with --recipe llm-compressor)`;
  if (!TP_GRANULARITIES.includes(c.granularity)) {
    const why =
      c.granularity === 'tokens'
        ? 'token pruning changes no weights, and Torch-Pruning prunes weights'
        : 'Torch-Pruning prunes channels and heads; it cannot remove an attention or FFN sublayer alone';
    return `${quote(g.label)} cannot be handed over to ${h.label}: ${why}`;
  }
  const score = STRUCTURED_SCORES.find((s) => s.granularity === c.granularity && s.id === c.score);
  if (score) {
    const imp = TP_IMPORTANCE[score.id];
    if ('none' in imp) return `the score ${quote(score.label)} cannot be handed over to ${h.label}: ${imp.none}`;
  }
  if (config && c.granularity === 'heads') {
    if (config.kind === 'gpt2')
      return `${quote(g.label)} of GPT-2 cannot be handed over to ${h.label}: its c_attn holds q, k and v in one matrix, and BasePruner’s num_heads groups one projection’s outputs as one set of heads`;
    if (numKvHeads(config) !== numHeads(config))
      return `${quote(g.label)} of a grouped-query model cannot be handed over to ${h.label}: the workbench removes query heads within their key/value groups, which one head ratio per projection does not express`;
  }
  return null;
}

/** handoverRefusal(), thrown as the catalogue's RecipeError (the CLI exits 2 on it). */
export function checkHandover(tool: HandoverTool, c: Choices, config?: ModelConfig): void {
  const why = handoverRefusal(tool, c, config);
  if (why) throw new RecipeError(why);
}

// ---- Module names ----

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The block prefix with the index as a pattern: "model\.layers\.\d+". */
function blockPattern(c: ModelConfig): string {
  const p = blockPrefix(c, 0);
  return `${escapeRe(p.slice(0, -'0.'.length))}\\d+`;
}

/** A block's module name, without the trailing dot: "model.layers.3". */
const blockName = (c: ModelConfig, l: number) => blockPrefix(c, l).slice(0, -1);

/** The module of a block's linear of one role ("model.layers.3.mlp.gate_proj"). */
function linearModule(c: ModelConfig, l: number, role: LinearRole): string | null {
  const s = linearSpecs(c).find((x) => x.layer === l && x.role === role);
  return s ? s.weight.replace(/\.weight$/, '') : null;
}

/** The attention module of a block: the parent of its q projection and output projection. */
function attentionModule(c: ModelConfig, l: number): string {
  return c.kind === 'vit' ? `${blockName(c, l)}.attention` : `${blockName(c, l)}.self_attn`;
}

/** The output head Torch-Pruning and llm-compressor must leave alone. */
const headModule = (c: ModelConfig) => (c.kind === 'vit' ? 'classifier' : 'lm_head');

// ---- The files ----

export interface HandoverInput {
  config: ModelConfig;
  /** The recipe with its defaults filled in (resolvePruneRecipe / resolveStructuredRecipe). */
  recipe: PruneRecipe | StructuredRecipe;
  /** Each block's sparsity the workbench asked for (its allocation's split) or measured; null: one value. */
  blockSparsity?: number[] | null;
  /** What structured pruning removed (heads, neurons, sublayers). */
  structure?: StructureMasks;
  /** The source model directory, for the header. */
  source?: string;
  /** Calibration examples and window length the workbench used, as oneshot arguments. */
  calibration?: { count: number; length?: number } | null;
}

export interface HandoverFile {
  tool: HandoverTool;
  name: string;
  text: string;
  /** The file's data (what `text` parses to). */
  data: Record<string, unknown>;
}

/** Rounded so the file reads as the fraction it is, not 0.30000000000000004. */
const round = (x: number) => Math.round(x * 1e6) / 1e6;

// Strings double-quoted: a YAML 1.1 reader (PyYAML, which both tools' users load recipes with)
// reads a plain 2:4 as the base-60 integer 124.
const YAML_OPTIONS = { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 } as const;

function yamlWithHeader(header: string[], data: Record<string, unknown>): string {
  return `${header.map((l) => (l ? `# ${l}` : '#')).join('\n')}\n${stringify(data, YAML_OPTIONS)}`;
}

const oneDecimal = (xs: number[]) => xs.every((x) => Math.abs(x - xs[0]) < 1e-9);

/** The recipe.yaml llm-compressor's oneshot reads. */
export function llmCompressorRecipe(input: HandoverInput): HandoverFile {
  const { config } = input;
  const recipe = input.recipe;
  checkHandover('llm-compressor', choicesOf(recipe, familyOf(config.kind)), config);
  const r = recipe as PruneRecipe;
  const m = LLMC_MODIFIER[r.method] as { modifier: string };
  const layers = numLayers(config);
  const given = input.blockSparsity ?? r.blockSparsity ?? null;
  const perBlock = given && !oneDecimal(given) ? given.map(round) : null;
  if (perBlock && perBlock.length !== layers)
    throw new Error(`blockSparsity has ${perBlock.length} values for ${layers} blocks`);
  const sparsity = perBlock ?? round(given?.[0] ?? r.sparsity);
  const blocks = `re:${blockPattern(config)}$`;
  const ignore = [`re:.*${headModule(config)}`];
  let fields: Record<string, unknown>;
  if (r.method === 'magnitude') {
    const names = linearSpecs(config)
      .filter((s) => s.layer === 0 && s.prunable)
      .map((s) => escapeRe(s.weight.slice(blockPrefix(config, 0).length).replace(/\.weight$/, '')));
    fields = {
      // The training schedule collapsed to one step: oneshot's initialize sends a start event at
      // step 0, which starts a modifier whose start is 0 and prunes to init_sparsity there.
      targets: [`re:${blockPattern(config)}\\.(${names.join('|')})$`],
      init_sparsity: sparsity,
      final_sparsity: sparsity,
      start: 0,
      end: 1,
      update_scheduler: 'cubic',
      mask_structure: 'unstructured',
      leave_enabled: false,
      apply_globally: false,
    };
  } else {
    fields = {
      sparsity,
      // llm-compressor's N:M names the weights pruned of every M (prune_n in sgpt_sparsify.py and
      // wanda_sparsify.py); the workbench's names those kept.
      mask_structure: r.nm ? `${r.nm.m - r.nm.n}:${r.nm.m}` : '0:0',
      // The decoder blocks, so that one sparsity per block lines up with them (a list must have one
      // value per target); every Linear inside a block is pruned, as the workbench prunes them.
      targets: [blocks],
      ignore,
      ...(r.method === 'sparsegpt' ? { block_size: 128, dampening_frac: 0.01 } : {}),
    };
  }
  const stage = { pruning_stage: { pruning_modifiers: { [m.modifier]: fields } } };
  const pipeline = r.method === 'magnitude' ? null : r.calibrationMode === 'one-shot' ? 'basic' : 'sequential';
  const header = [
    `llm-compressor recipe written by the pruning workbench, for llm-compressor ${LLM_COMPRESSOR_VERSION}`,
    `(field names read from vllm-project/llm-compressor ${LLM_COMPRESSOR_VERSION}, unchanged to commit ab1ba3ef).`,
    `Model: ${input.source ?? 'the source model'} (${config.kind}, ${layers} blocks); module names are the source's.`,
    `Recipe: ${r.method}${r.nm ? ` ${r.nm.n}:${r.nm.m}` : ''} at sparsity ${round(r.sparsity)}${r.allocation && r.allocation !== 'uniform' ? `, ${r.allocation} allocation` : ''}${perBlock ? ' (one sparsity per block, as the workbench computed)' : ''}.`,
    ...(r.allocation === 'owl' && r.owl
      ? [
          `OWL: M = ${r.owl.m}, lambda = ${r.owl.lambda}. llm-compressor's sparsity_profile: owl with owl_m and owl_lmbda`,
          'would recompute the split, but at this version it hands OWL’s per-layer dict to each layer where a',
          'number is expected (sgpt_base.py, on_calibration_start), so the split the workbench computed is written out below.',
        ]
      : []),
    ...(config.kind === 'gpt2'
      ? [
          'GPT-2: llm-compressor matches prunable layers by exact class name (Linear, Conv1d, Conv2d, Conv3d), which',
          "misses transformers' Conv1D (c_attn, c_proj, c_fc): convert them to torch.nn.Linear before oneshot (README).",
        ]
      : []),
    'Run:',
    '  from llmcompressor import oneshot',
    `  oneshot(model=MODEL, dataset=DATASET, recipe="recipe.yaml"${pipeline ? `, pipeline="${pipeline}"` : ''}${input.calibration ? `, num_calibration_samples=${input.calibration.count}` : ''}${input.calibration?.length ? `, max_seq_length=${input.calibration.length}` : ''}, output_dir=OUT)`,
    '',
  ];
  return {
    tool: 'llm-compressor',
    name: handoverEntry('llm-compressor').file,
    text: yamlWithHeader(header, stage),
    data: stage,
  };
}

/** The torch_pruning.yaml of BasePruner's arguments, module names in place of modules. */
export function torchPruningConfig(input: HandoverInput): HandoverFile {
  const { config } = input;
  const r = input.recipe;
  checkHandover('torch-pruning', choicesOf(r, familyOf(config.kind)), config);
  const sr = r as StructuredRecipe;
  const s = input.structure ?? {};
  const layers = numLayers(config);
  const removedBlocks = Array.from({ length: layers }, (_, l) => l).filter(
    (l) => s.attention?.[l] === false && s.mlp?.[l] === false,
  );
  const alive = (l: number) => !removedBlocks.includes(l);
  const fraction = (row: number[] | undefined) => (row ? round(row.filter((v) => v === 0).length / row.length) : 0);
  const pruningRatioDict: Record<string, number> = {};
  const headRatioDict: Record<string, number> = {};
  const heads: Record<string, number> = {};
  if (sr.granularity === 'neurons') {
    for (let l = 0; l < layers; l++) {
      if (!alive(l)) continue;
      // The FFN's input projections root the neuron group; the gate shares its rows with up_proj.
      for (const role of ['ffn_gate', 'ffn_in'] as const) {
        const name = linearModule(config, l, role);
        if (name) pruningRatioDict[name] = fraction(s.neurons?.[l]);
      }
    }
  }
  if (sr.granularity === 'heads') {
    for (let l = 0; l < layers; l++) {
      if (!alive(l)) continue;
      headRatioDict[attentionModule(config, l)] = fraction(s.heads?.[l]);
      for (const role of ['q', 'k', 'v'] as const) {
        const name = linearModule(config, l, role);
        if (name) heads[name] = numHeads(config);
      }
    }
  }
  const score = sr.score ? TP_IMPORTANCE[sr.score] : TP_IMPORTANCE.norm;
  const imp = score as { importance: string; args: Record<string, unknown> };
  const data = {
    torch_pruning: {
      version: TORCH_PRUNING_VERSION,
      pruner: 'BasePruner',
      importance: { class: imp.importance, args: imp.args },
      args: {
        // Only what the workbench removed: the residual width (the default ratio) stays whole.
        global_pruning: false,
        pruning_ratio: 0,
        pruning_ratio_dict: pruningRatioDict,
        ignored_layers: [headModule(config)],
        num_heads: heads,
        prune_num_heads: sr.granularity === 'heads',
        // Whole heads go and each kept head keeps its width (rotary embeddings need it whole).
        prune_head_dims: false,
        head_pruning_ratio: 0,
        head_pruning_ratio_dict: headRatioDict,
        round_to: null,
      },
      // Not a BasePruner argument: Torch-Pruning prunes width, not depth. These blocks (source
      // indices) are deleted from the model's block list before the pruner is built.
      remove_blocks: removedBlocks,
      block_list: blockName(config, 0).replace(/\.0$/, ''),
    },
  };
  const header = [
    `Torch-Pruning configuration written by the pruning workbench, for Torch-Pruning ${TORCH_PRUNING_VERSION}`,
    '(argument names read from VainF/Torch-Pruning v1.6.1, commit e80127d7: torch_pruning.pruner.BasePruner).',
    `Model: ${input.source ?? 'the source model'} (${config.kind}, ${layers} blocks, ${numHeads(config)} heads of ${headDim(config)}).`,
    `Recipe: ${sr.granularity} by ${sr.score ?? 'its default score'}, ${round(sr.amount)} removed${sr.scope ? ` (${sr.scope} scope)` : ''};`,
    'the ratios are those the workbench reached in each block. Module names stand where BasePruner takes',
    'modules: resolve them with model.get_submodule(name) (README: "When your model outgrows the browser").',
    ...(config.kind === 'gpt2'
      ? ["GPT-2: Torch-Pruning prunes torch.nn.Linear; convert transformers' Conv1D to torch.nn.Linear first (README)."]
      : []),
    ...(sr.score &&
    sr.score !== 'taylor' &&
    imp.importance === 'GroupMagnitudeImportance' &&
    sr.granularity !== 'blocks'
      ? [`The workbench ranked by ${sr.score}; GroupMagnitudeImportance is Torch-Pruning's nearest criterion.`]
      : []),
    ...(imp.importance === 'ActivationImportance'
      ? ['ActivationImportance reads activations: run calibration data inside importance.compute_importance(model).']
      : []),
    ...(imp.importance === 'GroupTaylorImportance'
      ? ['GroupTaylorImportance reads gradients: run loss.backward() on calibration data before pruner.step().']
      : []),
    '',
  ];
  return { tool: 'torch-pruning', name: handoverEntry('torch-pruning').file, text: yamlWithHeader(header, data), data };
}

/** The tool's file for the recipe; throws RecipeError when the recipe cannot be handed over. */
export function writeHandover(tool: HandoverTool, input: HandoverInput): HandoverFile {
  return tool === 'llm-compressor' ? llmCompressorRecipe(input) : torchPruningConfig(input);
}
