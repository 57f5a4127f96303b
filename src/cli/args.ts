// Command lines → checked arguments. node:util's parseArgs reads the options of the table in
// options.ts, and each value is read by its kind there (a catalogue id, a whole number, a number in
// a range). The purely syntactic rules are checked here: sparsities, N:M, --sparsity against --nm,
// sweep without N:M, the options taken only with one granularity or allocation. Whether the choices
// go together is the catalogue's to say (`refusal`): a refusal that holds whatever the model is a
// bad command line, refused here; one that depends on the model's family waits for the model
// (commands.ts checks the recipe against it once it is loaded).
import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  type AllocationId,
  type CalibrationMode,
  type CalibrationSourceId,
  type Choices,
  type GranularityId,
  granularityEntry,
  type MethodId,
  type QuantizerId,
  refusal,
  type SearchUnit,
  type Scope,
  type StructuredGranularity,
  type StructuredScoreId,
  FAMILIES,
} from '../engine/pruning/catalogue';
import { type Quantization, resolveQuantization, type StructuredRecipe } from '../engine/pruning/recipe';
import type { HandoverTool } from '../engine/export/handover';
import type { PackedFormat } from '../engine/export/gptq-checkpoint';
import { UsageError } from './errors';
import { parseSize } from '../engine/stream/memory';
import type { RecoveryModeId } from '../engine/recovery/modes';
import {
  type Command,
  FILE_SOURCE,
  NM,
  OPTION_LIST,
  OPTIONS,
  offered,
  optionSpec,
  orList,
  RECOVERY_FILE,
  takes,
} from './options';

/** A calibration source --calib names by its id. */
type NamedSource = Exclude<CalibrationSourceId, typeof FILE_SOURCE>;

export type CalibArg = { source: NamedSource } | { source: typeof FILE_SOURCE; path: string };

interface CalibArgs {
  calib: CalibArg | undefined;
  calibCount: number | undefined;
  seed: number | undefined;
}

/** The granularities whose weights a method scores one by one. */
export type WeightGranularity = Exclude<GranularityId, StructuredGranularity>;

/** Weight pruning as given on the command line (commands.ts fills in the defaults). */
export interface WeightArgs extends CalibArgs {
  granularity: WeightGranularity;
  method: MethodId;
  nm: { n: number; m: number } | null;
  scope: Scope | undefined;
  allocation: AllocationId | undefined;
  /** The allocation's parameters given (--owl-m, --owl-lambda), by the catalogue's parameter ids. */
  allocationParameters: Record<string, number>;
  calibrationMode: CalibrationMode | undefined;
  /** --bits and its grid, null without --bits. */
  quant: Quantization | null;
  /** --search-units: what EvoPress splits over. */
  searchUnits: SearchUnit | undefined;
}

/** A structured granularity: the amount removed is the command's --sparsity / --sparsities. */
export interface StructuredArgs extends CalibArgs {
  granularity: StructuredGranularity;
  score: StructuredScoreId | undefined;
  scope: StructuredRecipe['scope'];
  tokenFrom: number | undefined;
}

export type RecipeArgs = WeightArgs | StructuredArgs;

/** Single weights scored by a method, as the catalogue's granularity says. */
export const prunesWeights = (a: RecipeArgs): a is WeightArgs => granularityEntry(a.granularity).usesMethod;

interface Common {
  model: string;
  /** --hub and --cache: where a remote --model comes from and is kept (see remote.ts). */
  hub?: string;
  cache?: string;
  json: boolean;
  quiet: boolean;
  debug: boolean;
}

/** What the model is measured on (--eval, --eval-count, --seq-len, --stride); each undefined when not given. */
export interface EvalArgs {
  evalPath: string | undefined;
  evalCount: number | undefined;
  seqLen: number | undefined;
  stride: number | undefined;
}

/** --memory-budget in bytes; undefined when not given. */
export interface BudgetArgs {
  memoryBudget: number | undefined;
}

/** --recover and its settings (commands.ts fills in the defaults); null without --recover. */
export interface RecoveryArgs {
  recovery: {
    mode: RecoveryModeId;
    steps: number | undefined;
    learningRate: number | undefined;
    data: { source: 'calibration' | 'train' } | { source: typeof RECOVERY_FILE; path: string } | undefined;
    batchSize: number | undefined;
    evalEvery: number | undefined;
    rank: number | undefined;
    alpha: number | undefined;
    temperature: number | undefined;
  } | null;
}

/** parseSize, its refusal said as a usage error of the option `name`. */
export function parseByteSize(value: string, name: string): number {
  const n = parseSize(value);
  if (n === null) throw new UsageError(`${name}: expected a size such as 1.2GB, 800MB or 2GiB, got "${value}"`);
  return n;
}

const budgetArg = (raw: Record<string, unknown>): number | undefined =>
  typeof raw['memory-budget'] === 'string' ? parseByteSize(raw['memory-budget'], '--memory-budget') : undefined;

/** predict's input: a text for a language model or an image file for a classifier. */
export type PredictInput = { text: string } | { image: string };

export type ParsedCommand =
  | { command: Command; help: true; debug: boolean }
  | ({ command: 'prune'; help: false; sparsity: number } & Common & RecipeArgs & EvalArgs & BudgetArgs & RecoveryArgs)
  | ({ command: 'sweep'; help: false; sparsities: number[] } & Common &
      RecipeArgs &
      EvalArgs &
      BudgetArgs &
      RecoveryArgs)
  | ({ command: 'eval'; help: false } & Common & EvalArgs & BudgetArgs)
  | ({
      command: 'export';
      help: false;
      sparsity: number;
      out: string;
      force: boolean;
      /** --recipe: the tool whose recipe file is written beside the checkpoint. */
      handover?: HandoverTool;
      /** --packed: the quantized linears also packed in this layout. */
      packed?: PackedFormat;
    } & Common &
      RecipeArgs &
      EvalArgs &
      BudgetArgs &
      RecoveryArgs)
  | ({ command: 'predict'; help: false; input: PredictInput; top: number } & Common);

// Every command parses every option, so one given to a command that does not take it is refused
// as such rather than as unknown.
const PARSE_OPTIONS: ParseArgsConfig['options'] = Object.fromEntries(
  OPTION_LIST.map(([name, o]) => [
    name,
    {
      type: o.kind.type === 'flag' ? ('boolean' as const) : ('string' as const),
      ...(o.short ? { short: o.short } : {}),
    },
  ]),
);

type Raw = Record<string, string | boolean | undefined>;

function parse(command: Command, argv: string[]): Raw {
  try {
    return parseArgs({ args: argv, options: PARSE_OPTIONS, strict: true, allowPositionals: false }).values as Raw;
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

function required(raw: Raw, name: string, command: Command): string {
  const s = raw[name];
  if (typeof s !== 'string' || s === '')
    throw new UsageError(`${command}: --${name} is required (see "${command} --help")`);
  return s;
}

const DECIMAL = /^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** "0.5" or "50%" → 0.5, checked to lie in [0, 1). */
export function parseSparsity(s: string, option = '--sparsity', what = 'the weights'): number {
  const t = s.trim();
  const pct = t.endsWith('%');
  const body = pct ? t.slice(0, -1) : t;
  const v = DECIMAL.test(body) ? Number(body) / (pct ? 100 : 1) : NaN;
  if (!Number.isFinite(v)) throw new UsageError(`${option}: "${s}" is not a number`);
  if (!(v >= 0 && v < 1)) throw new UsageError(`${option}: ${s} is outside [0, 1) (a fraction of ${what} removed)`);
  return v;
}

function parseNumber(s: string, option: string, min: number, max: number): number {
  const v = DECIMAL.test(s.trim()) ? Number(s) : NaN;
  if (!Number.isFinite(v)) throw new UsageError(`${option}: "${s}" is not a number`);
  if (!(v >= min && v <= max)) throw new UsageError(`${option}: ${s} is outside [${min}, ${max}]`);
  return v;
}

function parseInteger(s: string, option: string, min: number, max = Infinity): number {
  if (!/^\d+$/.test(s.trim())) throw new UsageError(`${option}: "${s}" is not a whole number`);
  const v = Number(s);
  if (!Number.isSafeInteger(v) || v < min) throw new UsageError(`${option}: must be at least ${min}, got ${s}`);
  if (v > max) throw new UsageError(`${option}: must be at most ${max}, got ${s}`);
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

/** An option's value read by its kind in the table; undefined when not given. */
function read(raw: Raw, name: string, command: Command): string | number | undefined {
  const value = raw[name];
  if (typeof value !== 'string') return undefined;
  if (value === '') throw new UsageError(`--${name} needs a value`);
  const kind = optionSpec(name).kind;
  switch (kind.type) {
    case 'integer':
      return parseInteger(value, `--${name}`, kind.min, kind.max);
    case 'number':
      return parseNumber(value, `--${name}`, kind.min, kind.max);
    case 'choice': {
      const v = kind.values.find((x) => x.id === value);
      if (!v) {
        if (kind.file) return value;
        const expected = [...new Set(kind.values.map((x) => x.id))].join(', ');
        throw new UsageError(`unknown ${kind.noun} "${value}" (expected one of: ${expected})`);
      }
      if (!offered(kind, command).includes(v))
        throw new UsageError(
          `${command}: --${name} ${value} does not apply to ${command} (${v.label}: ${v.implements})`,
        );
      return value;
    }
    default:
      return value;
  }
}

/**
 * The catalogue's refusal of the choices where it holds for every model family. One that depends on
 * the family (a token score of the other family's models) waits for the model to be loaded.
 */
function refuseWhateverTheModel(c: Omit<Choices, 'family'>): void {
  const why = FAMILIES.map((family) => refusal({ ...c, family }));
  if (why[0] !== null && why.every((w) => w === why[0])) throw new UsageError(why[0]);
}

function calibArgs(raw: Raw, command: Command): CalibArgs {
  const calib = read(raw, 'calib', command) as string | undefined;
  const source = OPTIONS.calib.kind.values.find((s) => s.id === calib);
  return {
    calib:
      calib === undefined
        ? undefined
        : source
          ? { source: source.id as NamedSource }
          : { source: FILE_SOURCE, path: calib },
    calibCount: read(raw, 'calib-count', command) as number | undefined,
    seed: read(raw, 'seed', command) as number | undefined,
  };
}

/** --packed, which needs quantized weights to pack. */
function packedArg(raw: Raw, r: RecipeArgs, command: Command): PackedFormat | undefined {
  const packed = read(raw, 'packed', command) as PackedFormat | undefined;
  if (packed && !(prunesWeights(r) && r.quant))
    throw new UsageError(`--packed ${packed} packs quantized weights: give --bits too`);
  return packed;
}

/** The options that shape the quantization grid, which mean nothing without --bits: the quantization
 * section less --bits itself and --packed (refused on its own terms by packedArg). */
const GRID_OPTIONS = OPTION_LIST.filter(
  ([name, o]) => o.section === 'quantization' && name !== 'bits' && name !== 'packed',
).map(([name]) => name);

/** --bits and the grid's options; the others without --bits are refused. */
function quantArgs(raw: Raw, command: Command): Quantization | null {
  const bits = read(raw, 'bits', command) as number | undefined;
  if (bits === undefined) {
    const stray = GRID_OPTIONS.find((n) => raw[n] !== undefined);
    if (stray) throw new UsageError(`--${stray} sets how weights are quantized: give --bits too`);
    return null;
  }
  return resolveQuantization({
    bits,
    groupSize: read(raw, 'group-size', command) as number | undefined,
    quantizer: read(raw, 'quantizer', command) as QuantizerId | undefined,
    actOrder: raw['act-order'] === true,
    symmetric: raw.symmetric === true,
  });
}

function recipeArgs(raw: Raw, command: Command): RecipeArgs {
  const granularity = (read(raw, 'granularity', command) ??
    (raw.nm === undefined ? OPTIONS.granularity.default : NM)) as GranularityId;
  const usesMethod = granularityEntry(granularity).usesMethod;
  if (usesMethod) required(raw, 'method', command);
  const method = read(raw, 'method', command) as MethodId | undefined;
  const scope = read(raw, 'scope', command) as Scope | undefined;
  const allocation = read(raw, 'allocation', command) as AllocationId | undefined;
  const calibrationMode = read(raw, 'calib-mode', command) as CalibrationMode | undefined;
  const score = read(raw, 'score', command) as StructuredScoreId | undefined;
  const quant = quantArgs(raw, command);
  refuseWhateverTheModel({
    granularity,
    method,
    scope,
    allocation,
    calibrationMode,
    score,
    ...(quant ? { quantizer: quant.quantizer, actOrder: quant.actOrder } : {}),
  });
  for (const [name, o] of OPTION_LIST) {
    if (raw[name] === undefined) continue;
    if (o.granularities && !o.granularities.includes(granularity))
      throw new UsageError(`--${name} applies to --granularity ${orList(o.granularities)} only`);
    if (o.allocation && allocation !== o.allocation)
      throw new UsageError(`--${name} applies to --allocation ${o.allocation} only`);
  }
  const calib = calibArgs(raw, command);
  if (!usesMethod) {
    return {
      granularity: granularity as StructuredGranularity,
      score,
      // The catalogue has refused any scope the granularity cannot rank within.
      scope: scope as StructuredArgs['scope'],
      tokenFrom: read(raw, 'token-from', command) as number | undefined,
      ...calib,
    };
  }
  const allocationParameters = Object.fromEntries(
    OPTION_LIST.filter(([name, o]) => o.parameter && raw[name] !== undefined).map(([name, o]) => [
      o.parameter!.id,
      read(raw, name, command) as number,
    ]),
  );
  const nm = (read(raw, 'nm', command) as string | undefined) ?? OPTIONS.nm.default;
  return {
    granularity: granularity as WeightGranularity,
    method: method!,
    nm: granularity === NM ? parseNm(nm) : null,
    scope,
    allocation,
    allocationParameters,
    calibrationMode,
    quant,
    searchUnits: read(raw, 'search-units', command) as SearchUnit | undefined,
    ...calib,
  };
}

function sparsityArg(raw: Raw, r: RecipeArgs, command: Command): number {
  if (prunesWeights(r) && r.nm) {
    const implied = 1 - r.nm.n / r.nm.m;
    if (typeof raw.sparsity === 'string') {
      const s = parseSparsity(raw.sparsity);
      if (Math.abs(s - implied) > 1e-9)
        throw new UsageError(
          `--sparsity ${raw.sparsity} conflicts with --nm ${r.nm.n}:${r.nm.m}, which removes ${implied} of the weights`,
        );
    }
    return implied;
  }
  return parseSparsity(required(raw, 'sparsity', command), '--sparsity', granularityEntry(r.granularity).unit);
}

/** The recovery section's options but --recover: they mean nothing without it. */
const RECOVERY_SETTINGS = OPTION_LIST.filter(([name, o]) => o.section === 'recovery' && name !== 'recover').map(
  ([name]) => name,
);

function recoveryArgs(raw: Raw, command: Command, r: RecipeArgs): RecoveryArgs {
  const mode = read(raw, 'recover', command) as RecoveryModeId | undefined;
  if (mode === undefined) {
    const stray = RECOVERY_SETTINGS.find((n) => raw[n] !== undefined);
    if (stray) throw new UsageError(`--${stray} sets how the pruned model is recovered: give --recover too`);
    return { recovery: null };
  }
  if (prunesWeights(r) && r.quant)
    throw new UsageError('--recover with --bits: training would move the quantized weights off their grid');
  const only = (name: string, m: RecoveryModeId, what: string) => {
    if (raw[name] !== undefined && mode !== m && !(m === 'distill' && mode === 'lora'))
      throw new UsageError(`--${name} is ${what}: it applies to --recover ${m} only`);
  };
  only('lora-rank', 'lora', 'the adapters’ rank');
  only('lora-alpha', 'lora', 'the adapters’ scale');
  if (raw['distill-temperature'] !== undefined && mode !== 'distill')
    throw new UsageError(
      '--distill-temperature softens the dense model’s outputs: it applies to --recover distill only',
    );
  const data = read(raw, 'recover-data', command) as string | undefined;
  const named = OPTIONS['recover-data'].kind.values.find((d) => d.id === data);
  return {
    recovery: {
      mode,
      steps: read(raw, 'recover-steps', command) as number | undefined,
      learningRate: read(raw, 'recover-lr', command) as number | undefined,
      data:
        data === undefined
          ? undefined
          : named
            ? { source: named.id as 'calibration' | 'train' }
            : { source: RECOVERY_FILE, path: data },
      batchSize: read(raw, 'recover-batch', command) as number | undefined,
      evalEvery: read(raw, 'recover-eval-every', command) as number | undefined,
      rank: read(raw, 'lora-rank', command) as number | undefined,
      alpha: read(raw, 'lora-alpha', command) as number | undefined,
      temperature: read(raw, 'distill-temperature', command) as number | undefined,
    },
  };
}

function evalArgs(raw: Raw, command: Command): EvalArgs {
  return {
    evalPath: read(raw, 'eval', command) as string | undefined,
    evalCount: read(raw, 'eval-count', command) as number | undefined,
    seqLen: read(raw, 'seq-len', command) as number | undefined,
    stride: read(raw, 'stride', command) as number | undefined,
  };
}

function predictInput(raw: Raw): PredictInput {
  const text = raw.text;
  const image = raw.image;
  if (text !== undefined && image !== undefined)
    throw new UsageError('predict: give --text or --image, not both (see "predict --help")');
  if (typeof text === 'string') return { text };
  if (typeof image === 'string' && image !== '') return { image };
  throw new UsageError('predict: --text <string> or --image <file> is required (see "predict --help")');
}

export function parseCommand(command: Command, argv: string[]): ParsedCommand {
  const raw = parse(command, argv);
  const debug = raw.debug === true;
  if (raw.help) return { command, help: true, debug };
  if (command === 'sweep' && (raw.nm !== undefined || raw.granularity === NM))
    throw new UsageError('sweep: N:M fixes the sparsity at 1 − N/M; use prune');
  for (const [name, o] of OPTION_LIST) {
    if (raw[name] !== undefined && !takes(o, command))
      throw new UsageError(`${command}: --${name} does not apply to ${command} (see "${command} --help")`);
  }
  const common: Common = {
    model: required(raw, 'model', command),
    ...(typeof raw.hub === 'string' ? { hub: raw.hub } : {}),
    ...(typeof raw.cache === 'string' ? { cache: raw.cache } : {}),
    json: raw.json === true,
    quiet: raw.quiet === true,
    debug,
  };
  switch (command) {
    case 'eval':
      return { command, help: false, ...common, ...evalArgs(raw, command), memoryBudget: budgetArg(raw) };
    case 'predict':
      return {
        command,
        help: false,
        ...common,
        input: predictInput(raw),
        top: (read(raw, 'top', command) as number | undefined) ?? OPTIONS.top.default,
      };
    case 'prune':
    case 'export': {
      const r = recipeArgs(raw, command);
      const pruned = {
        help: false as const,
        ...common,
        ...r,
        ...evalArgs(raw, command),
        sparsity: sparsityArg(raw, r, command),
        memoryBudget: budgetArg(raw),
        ...recoveryArgs(raw, command, r),
      };
      if (command === 'prune') return { command, ...pruned };
      return {
        command,
        ...pruned,
        out: required(raw, 'out', command),
        force: raw.force === true,
        handover: read(raw, 'recipe', command) as HandoverTool | undefined,
        packed: packedArg(raw, r, command),
      };
    }
    case 'sweep': {
      const r = recipeArgs(raw, command);
      const list = required(raw, 'sparsities', command)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (list.length === 0) throw new UsageError('--sparsities: give at least one value');
      const unit = granularityEntry(r.granularity).unit;
      return {
        command,
        help: false,
        ...common,
        ...r,
        ...evalArgs(raw, command),
        memoryBudget: budgetArg(raw),
        ...recoveryArgs(raw, command, r),
        sparsities: list.map((s) => parseSparsity(s, '--sparsities', unit)),
      };
    }
  }
}
