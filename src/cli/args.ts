// Command lines → checked options (node's util.parseArgs), and each command's help text.
import { parseArgs } from 'node:util';
import type { AllocationId as Allocation, MethodId, Scope } from '../engine/pruning/catalogue';
import type { BlockMethod } from '../engine/pruning/structured/blocks';
import type { HeadScoreMethod } from '../engine/pruning/structured/heads';
import type { NeuronScoreMethod } from '../engine/pruning/structured/neurons';
import type { StructuredGranularity } from '../engine/pruning/catalogue';
import type { StructuredRecipe } from '../engine/pruning/recipe';
import type { StructuredScope } from '../engine/pruning/structured/select';
import { UsageError } from './errors';

export const COMMANDS = ['prune', 'sweep', 'eval', 'export'] as const;
export type Command = (typeof COMMANDS)[number];

export const METHODS: readonly MethodId[] = ['magnitude', 'random', 'wanda', 'sparsegpt', 'taylor'];
export const SCOPES: readonly Scope[] = ['layer', 'row', 'global'];
export const ALLOCATIONS: readonly Allocation[] = ['uniform', 'owl', 'sensitivity'];
export const CALIB_SOURCES = ['train', 'held-out', 'random'] as const;
export const GRANULARITIES = ['unstructured', 'heads', 'neurons', 'blocks', 'sublayers', 'tokens'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
/** The scores each structured granularity can rank by, the default first (none: no --score). */
export const STRUCTURED_SCORES: Record<StructuredGranularity, readonly string[]> = {
  heads: ['norm', 'taylor', 'entropy'] satisfies HeadScoreMethod[],
  neurons: ['activation', 'taylor'] satisfies NeuronScoreMethod[],
  blocks: ['angular-window', 'angular', 'influence'] satisfies BlockMethod[],
  sublayers: [],
  tokens: [],
};
export const STRUCTURED_SCOPES: readonly StructuredScope[] = ['layer', 'global'];

export type CalibArg = { source: (typeof CALIB_SOURCES)[number] } | { source: 'custom'; path: string };

interface CalibArgs {
  calib: CalibArg | undefined;
  calibCount: number | undefined;
  seed: number | undefined;
}

/** --granularity unstructured (the default): per-weight masks by --method. */
export interface RecipeArgs extends CalibArgs {
  granularity: 'unstructured';
  method: MethodId;
  nm: { n: number; m: number } | null;
  scope: Scope | undefined;
  allocation: Allocation;
}

/** A structured granularity: the amount removed is the command's --sparsity / --sparsities. */
export interface StructuredArgs extends CalibArgs {
  granularity: StructuredGranularity;
  score: StructuredRecipe['score'] | undefined;
  scope: StructuredScope | undefined;
  tokenFrom: number | undefined;
}

interface Common {
  model: string;
  json: boolean;
  quiet: boolean;
  debug: boolean;
}

export type ParsedCommand =
  | { command: Command; help: true; debug: boolean }
  | ({ command: 'prune'; help: false; sparsity: number } & Common & (RecipeArgs | StructuredArgs))
  | ({ command: 'sweep'; help: false; sparsities: number[] } & Common & (RecipeArgs | StructuredArgs))
  | ({ command: 'eval'; help: false } & Common)
  | ({ command: 'export'; help: false; sparsity: number; out: string; force: boolean } & Common &
      (RecipeArgs | StructuredArgs));

export const USAGE = `Usage: npm run -s cli -- <command> [options]
       npx tsx src/cli/main.ts <command> [options]

Prunes transformer checkpoints in Hugging Face format (GPT2LMHeadModel, ViTForImageClassification):
a model directory holds config.json and model.safetensors, plus tokenizer.json for text models and,
for measuring, eval.safetensors (and calib.safetensors, the "train" calibration data).

Commands:
  prune    prune by one recipe and measure the result (metric, parameters, FLOPs, sizes, times)
  sweep    measure one recipe at several sparsities, printing each point as it is measured
           (JSON Lines with --json)
  eval     the dense model's metric on its eval set and its cost
  export   prune and write the result as a Hugging Face checkpoint directory

prune, sweep and export prune single weights (--method, the default) or whole structures:
attention heads, FFN neurons, blocks, sublayers, or tokens at inference (--granularity).

Run "<command> --help" for a command's options.
JSON goes to stdout, progress to stderr (use "npm run -s" so npm's banner stays off stdout).
Exit codes: 0 success, 1 runtime error (missing or corrupt files, …), 2 bad arguments, 130 interrupted (Ctrl-C).
`;

const MODEL_HELP = `  --model <dir>         model directory (config.json, model.safetensors, …)           required`;
const COMMON_HELP = `  --json                print JSON on stdout instead of a readable summary
  --quiet               no progress on stderr
  --debug               print the stack of an error
  -h, --help            this help`;

/** The structured granularities a command takes: export cannot write token pruning. */
const granularityList = (exportable: boolean) =>
  exportable ? 'heads, neurons, blocks or sublayers' : 'heads, neurons, blocks, sublayers or tokens';

const sparsityHelp = (
  exportable: boolean,
) => `  --sparsity <s>        fraction removed, 0 ≤ s < 1 (0.5 or 50%)                        required
                        (except with --nm, where it is 1 − N/M): of the prunable weights, or
                        with --granularity of the ${granularityList(exportable)}`;

const unstructuredHelp = (nm: boolean) => `Unstructured pruning (--granularity unstructured, the default):
  --method <name>       magnitude | random | wanda | sparsegpt | taylor                 required${
    nm
      ? `
  --nm <N:M>            semi-structured N:M: keep N of every M consecutive inputs (e.g. 2:4)`
      : ''
  }
  --scope <scope>       layer | row | global: which weights compete for the kept fraction
                        (default: row for wanda, layer otherwise)${nm ? '; not with --nm' : ''}
  --allocation <a>      uniform | owl | sensitivity: how the sparsity is split over blocks
                        (default uniform)${nm ? '; not with --nm' : ''}`;

const structuredHelp = (
  exportable: boolean,
  nm: boolean,
) => `Structured pruning (--granularity heads | neurons | blocks | sublayers${exportable ? '' : ' | tokens'}):
  --granularity <g>     what is removed; the sparsity is the fraction removed of it:
                          heads      attention heads (of all the model's heads)
                          neurons    FFN intermediate neurons (of all of them)
                          blocks     whole transformer blocks (rounded to a whole number)
                          sublayers  attention and FFN sublayers, of the 2·L, chosen by FinerCut${
                            exportable
                              ? ''
                              : `
                          tokens     the tokens dropped at each block from --token-from on, ranked
                                     by the attention they received (an inference-time setting)`
                          }
                        --method${nm ? ', --nm' : ''} and --allocation do not apply
  --score <name>        how units are ranked                       (not for sublayers${exportable ? '' : ' or tokens'})
                          heads: norm | taylor | entropy                         (default norm)
                          neurons: activation | taylor                     (default activation)
                          blocks: angular-window | angular | influence (default angular-window)
  --scope <scope>       heads and neurons: layer (every block loses the same share, the
                        default) | global (the lowest scores over all blocks, each block's scores
                        normalized)${
                          exportable
                            ? ''
                            : `
  --token-from <block>  tokens: the first block whose input is pruned, ≥ 1          (default 1)`
                        }`;

const calibHelp = (
  exportable: boolean,
) => `Calibration (wanda, sparsegpt, taylor, owl, sensitivity; structured pruning${exportable ? '' : ' except tokens'}):
  --calib <source>      train (calib.safetensors) | held-out (eval.safetensors) | random |
                        <file>: a UTF-8 text file, or a .safetensors data set ("bytes" U8 [n],
                        or "images" U8 [n, (C,) H, W] with "labels" U8 [n])       (default train)
  --calib-count <n>     calibration examples: windows of the context (text) or images
                        (default 32 for text models, 128 for image models)
  --seed <n>            seed of the calibration sample and of the random method  (default 0)`;

const recipeHelp = (opts: { exportable: boolean; nm: boolean }) => `${unstructuredHelp(opts.nm)}

${structuredHelp(opts.exportable, opts.nm)}

${calibHelp(opts.exportable)}`;

export const HELP: Record<Command, string> = {
  prune: `Usage: prune --model <dir> --method <name> --sparsity <s> [options]
       prune --model <dir> --granularity <g> --sparsity <s> [--score <name>] [options]

Prunes the model by the recipe and measures the pruned model on eval.safetensors.
Prints the report: metric, sparsity reached, parameters, FLOPs, sizes, per-block sparsity, times;
for structured pruning also "structure", what was removed (and the sparsity is the share of the
blocks' linear parameters removed).

Options:
${MODEL_HELP}
${sparsityHelp(false)}
${COMMON_HELP}

${recipeHelp({ exportable: false, nm: true })}
`,
  sweep: `Usage: sweep --model <dir> --method <name> --sparsities <s1,s2,…> [options]
       sweep --model <dir> --granularity <g> --sparsities <s1,s2,…> [--score <name>] [options]

Measures the recipe at each sparsity, reusing calibration data between points (and, for
unstructured pruning, its statistics), and prints each point as soon as it is measured: with
--json one JSON line per point (JSON Lines, each the report "prune --json" prints), else one
readable line per point.

Options:
${MODEL_HELP}
  --sparsities <list>   comma-separated, each 0 ≤ s < 1 (e.g. 0.1,0.3,0.5 or 10%,30%)  required:
                        the fraction of the prunable weights removed, or with --granularity of
                        the ${granularityList(false)}
${COMMON_HELP}

${recipeHelp({ exportable: false, nm: false })}
`,
  eval: `Usage: eval --model <dir> [options]

The dense model's metric on its eval.safetensors (top-1 accuracy for images; loss, bits per byte,
perplexity and next-token accuracy for text) and its size and cost per example.

Options:
${MODEL_HELP}
${COMMON_HELP}
`,
  export: `Usage: export --model <dir> --out <dir> --method <name> --sparsity <s> [options]
       export --model <dir> --out <dir> --granularity <g> --sparsity <s> [--score <name>] [options]

Prunes as "prune" does, measures the result when the model has an eval set, and writes a Hugging
Face checkpoint that transformers loads with from_pretrained unchanged:
  config.json           the source config, every field kept (n_layer / num_hidden_layers counts
                        the blocks left when blocks are removed)
  model.safetensors     F32 weights, pruned weights as zeros (SparseGPT's updated values)
  masks.safetensors     U8 0/1 mask of every pruned matrix, same names and shapes
  recipe.json           recipe, calibration, per-block structure and sparsity, metrics, engine
                        version, date
  tokenizer.json, tokenizer_config.json, preprocessor_config.json, generation_config.json, …
                        copied from the source when present

Structured pruning: removed blocks are left out and the blocks after them renumbered; removed
heads, FFN neurons and sublayers are written as zero weights and biases (exactly what the pruned
model computes). Token pruning changes no weights (it is an inference-time setting), so it
cannot be exported.

Options:
${MODEL_HELP}
  --out <dir>           directory to write (created; must not hold a checkpoint unless --force)  required
  --force               overwrite the checkpoint files in --out
${sparsityHelp(true)}
${COMMON_HELP}

${recipeHelp({ exportable: true, nm: true })}
`,
};

const BASE = {
  model: { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  debug: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const RECIPE = {
  method: { type: 'string' },
  nm: { type: 'string' },
  scope: { type: 'string' },
  allocation: { type: 'string' },
  calib: { type: 'string' },
  'calib-count': { type: 'string' },
  seed: { type: 'string' },
  granularity: { type: 'string' },
  score: { type: 'string' },
  'token-from': { type: 'string' },
} as const;

const OPTIONS = {
  prune: { ...BASE, ...RECIPE, sparsity: { type: 'string' } },
  sweep: { ...BASE, ...RECIPE, sparsities: { type: 'string' } },
  eval: { ...BASE },
  export: {
    ...BASE,
    ...RECIPE,
    sparsity: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean', default: false },
  },
} as const;

type Values = Record<string, string | boolean | undefined>;

function parse(command: Command, argv: string[]): Values {
  try {
    return parseArgs({ args: argv, options: OPTIONS[command], strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    const err = e as Error & { code?: string };
    const hint = `(see "${command} --help")`;
    const first = err.message.split('\n')[0];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const opt = /'([^']+)'/.exec(first)?.[1] ?? first;
      throw new UsageError(`${command}: unknown option ${opt} ${hint}`);
    }
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']+)'/.exec(first)?.[1] ?? first;
      throw new UsageError(`${command}: unexpected argument "${arg}" ${hint}`);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const opt = /'(--?[\w-]+)/.exec(first)?.[1];
      throw new UsageError(opt ? `${command}: option ${opt} needs a value ${hint}` : `${command}: ${first} ${hint}`);
    }
    throw new UsageError(`${command}: ${first} ${hint}`);
  }
}

function required(v: Values, name: string, command: Command): string {
  const s = v[name];
  if (typeof s !== 'string' || s === '')
    throw new UsageError(`${command}: --${name} is required (see "${command} --help")`);
  return s;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`unknown ${what} "${value}" (expected one of: ${allowed.join(', ')})`);
  return value as T;
}

/** "0.5" or "50%" → 0.5, checked to lie in [0, 1). */
export function parseSparsity(s: string, option = '--sparsity', what = 'the weights'): number {
  const t = s.trim();
  const pct = t.endsWith('%');
  const body = pct ? t.slice(0, -1) : t;
  const v = /^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(body) ? Number(body) / (pct ? 100 : 1) : NaN;
  if (!Number.isFinite(v)) throw new UsageError(`${option}: "${s}" is not a number`);
  if (!(v >= 0 && v < 1)) throw new UsageError(`${option}: ${s} is outside [0, 1) (a fraction of ${what} removed)`);
  return v;
}

function parseInteger(s: string, option: string, min: number): number {
  if (!/^\d+$/.test(s.trim())) throw new UsageError(`${option}: "${s}" is not a whole number`);
  const v = Number(s);
  if (!Number.isSafeInteger(v) || v < min) throw new UsageError(`${option}: must be at least ${min}, got ${s}`);
  return v;
}

function parseNm(s: string): { n: number; m: number } {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(s);
  if (!m) throw new UsageError(`--nm: expected N:M such as 2:4, got "${s}"`);
  const n = Number(m[1]);
  const mm = Number(m[2]);
  if (!(n >= 1 && n < mm)) throw new UsageError(`--nm: needs 1 ≤ N < M, got ${s}`);
  return { n, m: mm };
}

function calibArgs(v: Values): CalibArgs {
  let calib: CalibArg | undefined;
  if (typeof v.calib === 'string') {
    if (v.calib === '') throw new UsageError('--calib needs a value');
    calib = (CALIB_SOURCES as readonly string[]).includes(v.calib)
      ? { source: v.calib as (typeof CALIB_SOURCES)[number] }
      : { source: 'custom', path: v.calib };
  }
  return {
    calib,
    calibCount: typeof v['calib-count'] === 'string' ? parseInteger(v['calib-count'], '--calib-count', 1) : undefined,
    seed: typeof v.seed === 'string' ? parseInteger(v.seed, '--seed', 0) : undefined,
  };
}

function unstructuredArgs(v: Values, command: Command): RecipeArgs {
  for (const opt of ['score', 'token-from'] as const) {
    if (v[opt] !== undefined)
      throw new UsageError(
        `--${opt} applies to structured pruning only (--granularity ${opt === 'score' ? 'heads, neurons or blocks' : 'tokens'}); unstructured pruning is chosen by --method`,
      );
  }
  const method = oneOf(required(v, 'method', command), METHODS, 'method');
  const nm = typeof v.nm === 'string' ? parseNm(v.nm) : null;
  const scope = typeof v.scope === 'string' ? oneOf(v.scope, SCOPES, 'scope') : undefined;
  const allocation = typeof v.allocation === 'string' ? oneOf(v.allocation, ALLOCATIONS, 'allocation') : 'uniform';
  if (nm && scope) throw new UsageError('--scope does not apply with --nm (N:M groups are within each row)');
  if (nm && allocation !== 'uniform')
    throw new UsageError('--allocation does not apply with --nm (every block is N:M)');
  return { granularity: 'unstructured', method, nm, scope, allocation, ...calibArgs(v) };
}

function structuredArgs(v: Values, granularity: StructuredGranularity): StructuredArgs {
  const g = `--granularity ${granularity}`;
  const scores = STRUCTURED_SCORES[granularity];
  for (const opt of ['method', 'nm', 'allocation'] as const) {
    if (v[opt] !== undefined)
      throw new UsageError(
        `--${opt} does not apply with ${g} (it is for unstructured pruning; structured pruning removes the fraction given by --sparsity${scores.length ? ', ranked by --score' : ''})`,
      );
  }
  let score: StructuredArgs['score'];
  if (typeof v.score === 'string') {
    if (scores.length === 0)
      throw new UsageError(
        `--score does not apply with ${g} (${granularity === 'tokens' ? 'tokens are ranked by the attention they receive' : 'FinerCut picks the sublayers by their effect on the output'})`,
      );
    score = oneOf(v.score, scores, `score for ${granularity}`) as StructuredArgs['score'];
  }
  let scope: StructuredScope | undefined;
  if (typeof v.scope === 'string') {
    if (granularity !== 'heads' && granularity !== 'neurons')
      throw new UsageError(`--scope does not apply with ${g} (it is for heads and neurons)`);
    scope = oneOf(v.scope, STRUCTURED_SCOPES, `scope for ${granularity}`);
  }
  let tokenFrom: number | undefined;
  if (typeof v['token-from'] === 'string') {
    if (granularity !== 'tokens')
      throw new UsageError(`--token-from does not apply with ${g} (it is for --granularity tokens)`);
    tokenFrom = parseInteger(v['token-from'], '--token-from', 1);
  }
  return { granularity, score, scope, tokenFrom, ...calibArgs(v) };
}

function recipeArgs(v: Values, command: Command): RecipeArgs | StructuredArgs {
  const granularity =
    typeof v.granularity === 'string' ? oneOf(v.granularity, GRANULARITIES, 'granularity') : 'unstructured';
  return granularity === 'unstructured' ? unstructuredArgs(v, command) : structuredArgs(v, granularity);
}

/** What a structured amount is a fraction of, for messages. */
const UNITS: Record<Granularity, string> = {
  unstructured: 'the weights',
  heads: 'the heads',
  neurons: 'the FFN neurons',
  blocks: 'the blocks',
  sublayers: 'the sublayers',
  tokens: 'the tokens',
};

function sparsityArg(v: Values, r: RecipeArgs | StructuredArgs, command: Command): number {
  if (r.granularity === 'unstructured' && r.nm) {
    const implied = 1 - r.nm.n / r.nm.m;
    if (typeof v.sparsity === 'string') {
      const s = parseSparsity(v.sparsity);
      if (Math.abs(s - implied) > 1e-9)
        throw new UsageError(
          `--sparsity ${v.sparsity} conflicts with --nm ${r.nm.n}:${r.nm.m}, which removes ${implied} of the weights`,
        );
    }
    return implied;
  }
  return parseSparsity(required(v, 'sparsity', command), '--sparsity', UNITS[r.granularity]);
}

export function parseCommand(command: Command, argv: string[]): ParsedCommand {
  const v = parse(command, argv);
  const debug = v.debug === true;
  if (v.help) return { command, help: true, debug };
  const common: Common = {
    model: required(v, 'model', command),
    json: v.json === true,
    quiet: v.quiet === true,
    debug,
  };
  switch (command) {
    case 'eval':
      return { command, help: false, ...common };
    case 'prune': {
      const r = recipeArgs(v, command);
      return { command, help: false, ...common, ...r, sparsity: sparsityArg(v, r, command) };
    }
    case 'export': {
      const r = recipeArgs(v, command);
      if (r.granularity === 'tokens') {
        throw new UsageError(
          'export: token pruning cannot be exported: it is an inference-time setting (which tokens each block keeps is chosen per input as the model runs), recorded nowhere in the weights; measure it with prune or sweep',
        );
      }
      return {
        command,
        help: false,
        ...common,
        ...r,
        sparsity: sparsityArg(v, r, command),
        out: required(v, 'out', command),
        force: v.force === true,
      };
    }
    case 'sweep': {
      const r = recipeArgs(v, command);
      if (r.granularity === 'unstructured' && r.nm)
        throw new UsageError('sweep: --nm fixes the sparsity at 1 − N/M; use prune');
      const list = required(v, 'sparsities', command)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (list.length === 0) throw new UsageError('--sparsities: give at least one value');
      return {
        command,
        help: false,
        ...common,
        ...r,
        sparsities: list.map((s) => parseSparsity(s, '--sparsities', UNITS[r.granularity])),
      };
    }
  }
}
