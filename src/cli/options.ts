// The CLI's options, each stated once: its name and kind, the commands that take it, the
// granularity or allocation it belongs to, its values, its default and its help. Where the values
// are a fixed set they are the engine's catalogue lists (src/engine/pruning/catalogue.ts), so the
// accepted values, the "expected one of" messages and the help lines all come from there. args.ts
// builds node:util parseArgs' option objects and reads the values from this table; help.ts writes
// every command's --help from it.
import { DEFAULT_CALIBRATION } from '../engine/eval/pruner';
import {
  ALLOCATIONS,
  FAMILIES,
  FAMILY_NAMES,
  type AllocationId,
  type AllocationParameter,
  CALIBRATION_MODES,
  CALIBRATION_SOURCES,
  type CalibrationSourceId,
  calibrationSourceEntry,
  type Family,
  GRANULARITIES,
  type GranularityId,
  METHODS,
  type Paper,
  QUANT_BIT_RANGE,
  QUANTIZERS,
  SEARCH_UNITS,
  SCOPES,
  STRUCTURED_SCORES,
} from '../engine/pruning/catalogue';
import { HANDOVERS } from '../engine/export/handover';
import { RECOVERY_DATA, RECOVERY_MODES } from '../engine/recovery/modes';
import { PACKED_FORMATS } from '../engine/export/gptq-checkpoint';

export const COMMANDS = ['prune', 'sweep', 'eval', 'export', 'predict'] as const;
export type Command = (typeof COMMANDS)[number];

const RECIPE_COMMANDS: readonly Command[] = ['prune', 'sweep', 'export'];

/** The granularities whose kept weights can be quantized: those a method scores one by one. */
const WEIGHT_GRANULARITIES = GRANULARITIES.filter((g) => g.usesMethod).map((g) => g.id);

/** The commands that measure the model on an evaluation set. */
const EVAL_COMMANDS: readonly Command[] = ['prune', 'sweep', 'eval', 'export'];

/** The model families, as --help and messages name them. */

/** The granularity --nm selects: N:M is its only parameter, so --nm alone implies it. */
export const NM: GranularityId = 'nm';

/** The calibration source --calib reads from a file the user names (any value not a source id). */
export const FILE_SOURCE = 'custom' satisfies CalibrationSourceId;

/** The recovery data --recover-data reads from a file the user names (any value not a source id). */
export const RECOVERY_FILE = 'custom';

/** A value of a fixed set: a catalogue entry, as --help describes it. */
export interface OptionValue {
  id: string;
  label: string;
  summary: string;
  paper: Paper | null;
  implements: string;
  /** A structured score's granularity: --help lists the scores under theirs. */
  granularity?: GranularityId;
  /** The model families it applies to. */
  families?: readonly Family[];
}

/** One of `values`, named `noun` in messages; with `file`, any other value is a file's path. */
export interface Choice {
  type: 'choice';
  noun: string;
  values: readonly OptionValue[];
  /** The values a command can apply, where not all. */
  offered?: (command: Command) => readonly OptionValue[];
  file?: { value: OptionValue; detail: string };
}

export type OptionKind =
  | { type: 'flag' }
  | { type: 'text' }
  | Choice
  | { type: 'integer'; min: number; max?: number }
  | { type: 'number'; min: number; max: number };

/** The groups of --help. */
export type Section =
  | 'general'
  | 'granularity'
  | 'weights'
  | 'quantization'
  | 'structured'
  | 'calibration'
  | 'recovery'
  | 'evaluation';

export interface OptionSpec {
  kind: OptionKind;
  short?: string;
  /** The value's placeholder in --help. */
  arg?: string;
  commands: readonly Command[];
  section: Section;
  /** Taken only with these granularities (the catalogue's refusal judges the choices it knows). */
  granularities?: readonly GranularityId[];
  /** Taken only with this allocation: one of its parameters. */
  allocation?: AllocationId;
  parameter?: AllocationParameter;
  help: string | ((command: Command) => string);
  /** What applies when the option is not given: a value the parser and recipe fill in, or a rule in words. */
  default?: string | number;
  /** When it must be given, in words ("required", "required except with --nm"). */
  required?: string;
}

export const orList = (xs: readonly string[]) =>
  xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`;
export const andList = (xs: readonly string[]) =>
  xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`;

function groupBy<T, K>(xs: readonly T[], key: (x: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const x of xs) groups.set(key(x), [...(groups.get(key(x)) ?? []), x]);
  return groups;
}

/**
 * The granularities a command can apply: export writes only what changes the weights, and sweep
 * varies the sparsity, which N:M fixes.
 */
export const granularitiesFor = (command: Command) =>
  GRANULARITIES.filter((g) => (command !== 'export' || g.exports) && (command !== 'sweep' || g.id !== NM));

/** What a structured amount is a fraction of, for the sparsity options' help. */
const units = (command: Command) =>
  `the prunable weights, or with --granularity of ${orList(
    granularitiesFor(command)
      .filter((g) => !g.usesMethod)
      .map((g) => g.unit),
  )}`;

const scopeHelp = () => {
  const byDefault = groupBy(METHODS, (m) => m.scopes[0]);
  const defaults = [...byDefault].map(([scope, ms]) => `${scope} for ${andList(ms.map((m) => m.id))}`);
  const narrow = METHODS.filter((m) => m.scopes.length < SCOPES.length).map((m) => `${m.id}: ${orList(m.scopes)} only`);
  const structured = GRANULARITIES.filter((g) => !g.usesMethod && g.scopes.length > 0).map(
    (g) => `${g.id}: ${orList(g.scopes)} (default ${g.scopes[0]})`,
  );
  return `which weights (or units) compete for the kept share (default: ${defaults.join('; ')}); ${[...narrow, ...structured].join('; ')}`;
};

const calibModeHelp = () => {
  const methods = METHODS.filter((m) => m.defaultCalibrationMode);
  const defaults = methods.map((m) => {
    const modes = groupBy(FAMILIES, (f) => m.defaultCalibrationMode![f]);
    return modes.size === 1
      ? `${m.id} ${[...modes.keys()][0]}`
      : `${m.id} ${[...modes].map(([mode, fs]) => `${mode} on ${andList(fs.map((f) => FAMILY_NAMES[f]))}`).join(', ')}`;
  });
  return `how the calibration statistics reach each block, for ${andList(methods.map((m) => m.id))} (default: ${defaults.join('; ')})`;
};

/** --owl-m, --owl-lambda: one option per parameter of an allocation, with its range and default. */
const allocationParameterOptions = Object.fromEntries(
  ALLOCATIONS.flatMap((a) =>
    a.parameters.map((p): [string, OptionSpec] => [
      p.option ?? `${a.id}-${p.id}`,
      {
        kind: p.integer ? { type: 'integer', min: p.min, max: p.max } : { type: 'number', min: p.min, max: p.max },
        arg: `<${p.integer ? 'n' : p.label}>`,
        commands: RECIPE_COMMANDS,
        section: 'weights',
        allocation: a.id,
        parameter: p,
        help: `${a.label}’s ${p.label}, ${p.min} ≤ ${p.label} ≤ ${p.max}: ${p.summary} With --allocation ${a.id}`,
        default: p.default,
      },
    ]),
  ),
);

export const OPTIONS = {
  model: {
    kind: { type: 'text' },
    arg: '<dir|url|hf:id>',
    commands: COMMANDS,
    section: 'general',
    help: 'model directory (config.json, model.safetensors, …), the URL of one, or a hub model hf:org/name[@revision] (downloaded into --cache once)',
    required: 'required',
  },
  hub: {
    kind: { type: 'text' },
    arg: '<url>',
    commands: COMMANDS,
    section: 'general',
    help: 'the hub that hf: ids are downloaded from, as {hub}/{id}/resolve/{revision}/{file}',
    default: '$HF_ENDPOINT, else https://huggingface.co',
  },
  cache: {
    kind: { type: 'text' },
    arg: '<dir>',
    commands: COMMANDS,
    section: 'general',
    help: 'where downloaded models are kept and reused',
    default: '$XDG_CACHE_HOME/pruning-workbench, else ~/.cache/pruning-workbench',
  },
  sparsity: {
    kind: { type: 'text' },
    arg: '<s>',
    commands: ['prune', 'export'],
    section: 'general',
    help: (c) => `fraction removed, 0 ≤ s < 1 (0.5 or 50%): of ${units(c)}`,
    required: 'required, except with --nm, where it is 1 − N/M',
  },
  sparsities: {
    kind: { type: 'text' },
    arg: '<list>',
    commands: ['sweep'],
    section: 'general',
    help: (c) => `comma-separated fractions removed, each 0 ≤ s < 1 (0.1,0.3,0.5 or 10%,30%): of ${units(c)}`,
    required: 'required',
  },
  out: {
    kind: { type: 'text' },
    arg: '<dir>',
    commands: ['export'],
    section: 'general',
    help: 'directory to write (created; must not hold a checkpoint unless --force)',
    required: 'required',
  },
  recipe: {
    kind: { type: 'choice', noun: 'recipe format', values: HANDOVERS },
    arg: '<tool>',
    commands: ['export'],
    section: 'general',
    help: `also write the recipe for a tool that prunes the full-size model on your own machines: ${HANDOVERS.map((h) => `${h.id} writes ${h.file} (${h.source})`).join('; ')}; exits 2 when the recipe cannot be expressed there`,
  },
  packed: {
    kind: { type: 'choice', noun: 'packed format', values: PACKED_FORMATS },
    arg: '<format>',
    commands: ['export'],
    section: 'quantization',
    granularities: WEIGHT_GRANULARITIES,
    help: 'also pack the quantized block linears in a layout a quantized loader runs as it is: gptq writes qweight, qzeros, scales and g_idx and quantization_config (default: the dequantized values in the source dtype). With --bits',
  },
  'memory-budget': {
    kind: { type: 'text' },
    arg: '<size>',
    commands: ['eval', 'prune', 'sweep', 'export'],
    section: 'general',
    help: 'the most memory the run may take (1.2GB, 800MB, 2GiB): a model that does not fit whole is measured and pruned a block at a time, read from its files and written out as it goes (unstructured and N:M pruning by a method that decides each block alone; a sweep makes one pass per point); one that fits neither way is refused with the estimate',
    default: 'half of this machine’s memory',
  },
  force: {
    kind: { type: 'flag' },
    commands: ['export'],
    section: 'general',
    help: 'overwrite the checkpoint files in --out',
  },
  json: {
    kind: { type: 'flag' },
    commands: COMMANDS,
    section: 'general',
    help: (c) =>
      c === 'sweep'
        ? 'print one JSON line per point (JSON Lines, each the report "prune --json" prints) instead of one readable line'
        : 'print JSON on stdout instead of a readable summary',
  },
  quiet: { kind: { type: 'flag' }, commands: COMMANDS, section: 'general', help: 'no progress on stderr' },
  debug: { kind: { type: 'flag' }, commands: COMMANDS, section: 'general', help: 'print the stack of an error' },
  help: { kind: { type: 'flag' }, short: 'h', commands: COMMANDS, section: 'general', help: 'this help' },
  granularity: {
    kind: { type: 'choice', noun: 'granularity', values: GRANULARITIES, offered: granularitiesFor },
    arg: '<g>',
    commands: RECIPE_COMMANDS,
    section: 'granularity',
    help: 'what is removed; the sparsity is the fraction of it removed',
    default: 'unstructured' as GranularityId,
  },
  method: {
    kind: {
      type: 'choice',
      noun: 'method',
      values: METHODS,
      offered: (c) => METHODS.filter((m) => c !== 'export' || m.exports),
    },
    arg: '<name>',
    commands: RECIPE_COMMANDS,
    section: 'weights',
    help: 'how each weight is scored',
    required: 'required',
  },
  nm: {
    kind: { type: 'text' },
    arg: '<N:M>',
    commands: RECIPE_COMMANDS,
    section: 'weights',
    granularities: [NM],
    help: `keep N of every M consecutive inputs of each output row; --nm alone means --granularity ${NM}`,
    default: '2:4',
  },
  scope: {
    kind: { type: 'choice', noun: 'scope', values: SCOPES },
    arg: '<scope>',
    commands: RECIPE_COMMANDS,
    section: 'weights',
    help: scopeHelp,
  },
  allocation: {
    kind: { type: 'choice', noun: 'allocation', values: ALLOCATIONS },
    arg: '<a>',
    commands: RECIPE_COMMANDS,
    section: 'weights',
    help: 'how the sparsity is split over the blocks',
    default: 'uniform' as AllocationId,
  },
  ...allocationParameterOptions,
  'search-units': {
    kind: { type: 'choice', noun: 'search unit', values: SEARCH_UNITS },
    arg: '<units>',
    commands: RECIPE_COMMANDS,
    section: 'weights',
    allocation: 'evopress',
    help: 'what EvoPress splits the sparsity over. With --allocation evopress',
    default: SEARCH_UNITS[0].id,
  },
  bits: {
    kind: { type: 'integer', min: QUANT_BIT_RANGE.min, max: QUANT_BIT_RANGE.max },
    arg: '<n>',
    commands: RECIPE_COMMANDS,
    section: 'quantization',
    granularities: WEIGHT_GRANULARITIES,
    help: `quantize the kept weights to n bits, ${QUANT_BIT_RANGE.min} ≤ n ≤ ${QUANT_BIT_RANGE.max} (8, 4 and 3 as the papers report); joined with any --method and --sparsity or --nm`,
  },
  'group-size': {
    kind: { type: 'integer', min: 0 },
    arg: '<g>',
    commands: RECIPE_COMMANDS,
    section: 'quantization',
    granularities: WEIGHT_GRANULARITIES,
    help: 'input columns sharing one scale and zero point (128, 64, 32); 0 is one per output row. With --bits',
    default: 0,
  },
  quantizer: {
    kind: { type: 'choice', noun: 'quantizer', values: QUANTIZERS },
    arg: '<name>',
    commands: RECIPE_COMMANDS,
    section: 'quantization',
    granularities: WEIGHT_GRANULARITIES,
    help: 'how the kept weights are put on the grid: with --method sparsegpt, gptq quantizes in SparseGPT’s own column sweep. With --bits',
    default: 'gptq',
  },
  'act-order': {
    kind: { type: 'flag' },
    commands: RECIPE_COMMANDS,
    section: 'quantization',
    granularities: WEIGHT_GRANULARITIES,
    help: 'GPTQ visits the columns by decreasing Hessian diagonal (its act-order). With --bits and --quantizer gptq',
  },
  symmetric: {
    kind: { type: 'flag' },
    commands: RECIPE_COMMANDS,
    section: 'quantization',
    granularities: WEIGHT_GRANULARITIES,
    help: 'a grid symmetric around zero (no zero points stored); default: each group’s own zero point. With --bits',
  },
  'calib-mode': {
    kind: { type: 'choice', noun: 'calibration mode', values: CALIBRATION_MODES },
    arg: '<mode>',
    commands: RECIPE_COMMANDS,
    section: 'weights',
    help: calibModeHelp,
  },
  score: {
    kind: {
      type: 'choice',
      noun: 'score',
      values: STRUCTURED_SCORES,
      offered: (c) => STRUCTURED_SCORES.filter((s) => granularitiesFor(c).some((g) => g.id === s.granularity)),
    },
    arg: '<name>',
    commands: RECIPE_COMMANDS,
    section: 'structured',
    help: 'how the units are ranked (default: the first listed for the granularity that applies to the model)',
  },
  'token-from': {
    kind: { type: 'integer', min: 1 },
    arg: '<block>',
    commands: RECIPE_COMMANDS,
    section: 'structured',
    granularities: ['tokens' as GranularityId],
    help: 'the first block whose input is token-pruned; block 0 never is',
    default: 1,
  },
  calib: {
    kind: {
      type: 'choice',
      noun: 'calibration source',
      values: CALIBRATION_SOURCES.filter((s) => s.id !== FILE_SOURCE),
      file: {
        value: calibrationSourceEntry(FILE_SOURCE),
        detail:
          'A UTF-8 text file (text models: windows of the model\'s context at random offsets), a folder of images (image models: one subfolder per class, named by its label, of PNG or JPEG files, preprocessed as preprocessor_config.json says), or a .safetensors data set ("bytes" U8 [n], or "images" U8 [n, (C,) H, W] with "labels" U8 [n]).',
      },
    },
    arg: '<source>',
    commands: RECIPE_COMMANDS,
    section: 'calibration',
    help: 'where the calibration examples come from',
    default: 'train' as CalibrationSourceId,
  },
  'calib-count': {
    kind: { type: 'integer', min: 1 },
    arg: '<n>',
    commands: RECIPE_COMMANDS,
    section: 'calibration',
    help: 'calibration examples: windows of the context (text) or images',
    default: FAMILIES.map((f) => `${DEFAULT_CALIBRATION[f].count} for ${FAMILY_NAMES[f]}`).join(', '),
  },
  seed: {
    kind: { type: 'integer', min: 0 },
    arg: '<n>',
    commands: RECIPE_COMMANDS,
    section: 'calibration',
    help: 'seed of the calibration sample and of the random method',
    default: 0,
  },
  recover: {
    kind: { type: 'choice', noun: 'recovery mode', values: RECOVERY_MODES },
    arg: '<mode>',
    commands: RECIPE_COMMANDS,
    section: 'recovery',
    help: 'after pruning, train what is kept (what was removed stays removed) and report the metric before and after',
  },
  'recover-steps': {
    kind: { type: 'integer', min: 1 },
    arg: '<n>',
    commands: RECIPE_COMMANDS,
    section: 'recovery',
    help: 'optimizer updates (Adam, linear warm-up over a tenth of them, then cosine decay to 0)',
    default: 100,
  },
  'recover-lr': {
    kind: { type: 'number', min: 1e-8, max: 1 },
    arg: '<x>',
    commands: RECIPE_COMMANDS,
    section: 'recovery',
    help: 'the peak learning rate',
    default: RECOVERY_MODES.map((m) => `${m.defaultLearningRate} for ${m.id}`).join(', '),
  },
  'recover-data': {
    kind: {
      type: 'choice',
      noun: 'recovery data',
      values: RECOVERY_DATA.filter((d) => d.id !== RECOVERY_FILE),
      file: {
        value: RECOVERY_DATA.find((d) => d.id === RECOVERY_FILE)!,
        detail:
          'A UTF-8 text file (text models), a folder of images (one subfolder per class, named by its label) or a .safetensors data set, read as for --calib.',
      },
    },
    arg: '<source>',
    commands: RECIPE_COMMANDS,
    section: 'recovery',
    help: 'what the recovery trains on',
    default: 'train',
  },
  'recover-batch': {
    kind: { type: 'integer', min: 1 },
    arg: '<n>',
    commands: RECIPE_COMMANDS,
    section: 'recovery',
    help: 'examples per update: windows of the context (text) or images',
    default: 8,
  },
  'recover-eval-every': {
    kind: { type: 'integer', min: 0 },
    arg: '<n>',
    commands: RECIPE_COMMANDS,
    section: 'recovery',
    help: 'measure the eval set every n updates as well (0: before and after only); a cancelled run (Ctrl-C) keeps the best measured weights',
    default: 0,
  },
  'lora-rank': {
    kind: { type: 'integer', min: 1 },
    arg: '<r>',
    commands: RECIPE_COMMANDS,
    section: 'recovery',
    help: 'with --recover lora: the adapters’ rank',
    default: 8,
  },
  'lora-alpha': {
    kind: { type: 'number', min: 1e-6, max: 1e6 },
    arg: '<a>',
    commands: RECIPE_COMMANDS,
    section: 'recovery',
    help: 'with --recover lora: the update is scaled by alpha / rank (PEFT’s lora_alpha)',
    default: 'twice the rank',
  },
  'distill-temperature': {
    kind: { type: 'number', min: 1e-3, max: 100 },
    arg: '<t>',
    commands: RECIPE_COMMANDS,
    section: 'recovery',
    help: 'with --recover distill: the temperature both distributions are softened by',
    default: 2,
  },
  eval: {
    kind: { type: 'text' },
    arg: '<path>',
    commands: EVAL_COMMANDS,
    section: 'evaluation',
    help: 'what the model is measured on: a UTF-8 text file (text models), a folder with one subfolder of PNG or JPEG images per class, named by its label (image models; preprocessed as preprocessor_config.json says), or a .safetensors data set like eval.safetensors',
    default: "the model directory's eval.safetensors",
  },
  'eval-count': {
    kind: { type: 'integer', min: 1 },
    arg: '<n>',
    commands: EVAL_COMMANDS,
    section: 'evaluation',
    help: 'evaluation examples: the first n windows of the text, or the first n images',
    default: 'all',
  },
  'seq-len': {
    kind: { type: 'integer', min: 1 },
    arg: '<n>',
    commands: EVAL_COMMANDS,
    section: 'evaluation',
    help: "tokens per evaluation and calibration window (text models), at most the model's context",
    default: "the model's context, at most 2048 tokens",
  },
  stride: {
    kind: { type: 'integer', min: 1 },
    arg: '<n>',
    commands: EVAL_COMMANDS,
    section: 'evaluation',
    help: "tokens between the starts of consecutive evaluation windows (text models); below the window length the windows overlap and each scores only the tokens the windows before it did not, so every token is scored once with more context before it (transformers' strided perplexity)",
    default: 'the window length: windows do not overlap',
  },
  text: {
    kind: { type: 'text' },
    arg: '<string>',
    commands: ['predict'],
    section: 'general',
    help: 'text models: the text whose next token is predicted (encoded with the special tokens the tokenizer adds, as transformers does by default)',
    required: 'one of --text and --image is required',
  },
  image: {
    kind: { type: 'text' },
    arg: '<file>',
    commands: ['predict'],
    section: 'general',
    help: 'image models: a PNG or JPEG file to classify, preprocessed as preprocessor_config.json says',
  },
  top: {
    kind: { type: 'integer', min: 1 },
    arg: '<k>',
    commands: ['predict'],
    section: 'general',
    help: 'how many of the most probable tokens or classes to print',
    default: 5,
  },
} satisfies Record<string, OptionSpec>;

/** The table as a list, in --help's order. */
export const OPTION_LIST: readonly [string, OptionSpec][] = Object.entries(OPTIONS);

const BY_NAME = new Map(OPTION_LIST);

/** The table's row of an option. */
export const optionSpec = (name: string): OptionSpec => BY_NAME.get(name)!;

/** Whether a command takes the option: none that belongs only to granularities the command cannot apply. */
export function takes(o: OptionSpec, command: Command): boolean {
  const applied = granularitiesFor(command).map((g) => g.id);
  return o.commands.includes(command) && (!o.granularities || o.granularities.some((g) => applied.includes(g)));
}

/** The values of a choice a command can apply. */
export const offered = (c: Choice, command: Command): readonly OptionValue[] => c.offered?.(command) ?? c.values;
