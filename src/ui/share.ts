// The shareable configuration: exactly what the link (#v1.<base64url JSON>) and the browser's
// storage hold. Parsing is strict: every field is type- and range-checked, the ids against the
// catalogue of methods (src/engine/pruning/catalogue.ts), and a combination the catalogue refuses
// is refused with its reason; anything wrong gives a message and the defaults. Nothing from a link
// is ever rendered as HTML.
import {
  ALLOCATIONS,
  type AllocationId,
  type AllocationParameter,
  CALIBRATION_MODES,
  GRANULARITIES,
  ids,
  METHODS,
  QUANT_BITS,
  QUANT_GROUP_SIZES,
  QUANTIZERS,
  SCOPES,
  STRUCTURED_SCORES,
} from '../engine/pruning/catalogue';
import {
  allocationParameters,
  CALIB_SOURCES,
  type CalibSourceChoice,
  type ChoiceState,
  fitLink,
  type QuantGrid,
} from './choices';
import {
  formatHubId,
  HUB_PREFIX,
  LONGEST_WINDOW,
  normalizeFolderUrl,
  parseHubId,
  SourceError,
} from '../workers/client';
import {
  RECOVERY_DATA,
  RECOVERY_MODES,
  type RecoveryDataId,
  type RecoveryModeId,
  recoveryModeEntry,
} from '../engine/recovery/modes';

export const AXES = ['flops', 'params', 'bytes'] as const;
export type Axis = (typeof AXES)[number];
/** What the chart's points are coloured by: their curve, or the bits their weights are stored at. */
export const CHART_COLORS = ['curve', 'bits'] as const;
export type ChartColor = (typeof CHART_COLORS)[number];

/**
 * Where the model of a link comes from when it is not one the page ships: a hub id (resolved
 * against the page's hub), a folder URL, or files the user dropped, named, with the digest of
 * their safetensors headers that files dropped to open the link must match.
 */
export type LinkSource =
  | { kind: 'hub'; id: string; revision: string }
  | { kind: 'url'; url: string }
  | { kind: 'files'; files: string[]; digest: string };

export interface ShareState extends ChoiceState, QuantGrid {
  /** A shipped model's id; with a `source`, the key modelKeyOf gives it (curves are kept per model by it). */
  model: string;
  /** null: `model` is one of the models the page ships. */
  source: LinkSource | null;
  /** OWL's outlier threshold M and spread λ (used with the OWL allocation). */
  owlM: number;
  owlLambda: number;
  /** EvoPress's search steps, its generations (used with the EvoPress allocation). */
  evoSteps: number;
  calibSource: CalibSourceChoice | 'default';
  calibCount: number;
  /**
   * Tokens per window of text, for calibration and measurement; null: the model's sequence (its
   * context, at most 2,048). Shorter windows measure a large model sooner, at a higher loss.
   */
  window: number | null;
  /** Global sparsity (unstructured) or the fraction of structures removed (structured). */
  sparsity: number;
  tokenKeep: number;
  axis: Axis;
  chartColor: ChartColor;
  /** The selected block, or null. */
  layer: number | null;
  /** The inspected input, as an input code (see parseInputCode); '' is the model's default input. */
  input: string;
  /** Sparsity per block, set by the per-layer sliders; null: locked to the global sparsity and allocation. */
  layerSparsity: number[] | null;
  /** The training after pruning that the shown result had (opening the link runs it again); null: none. */
  recovery: RecoveryChoice | null;
}

/** A recovery as the link holds it: every setting that decides its result, the seed included. */
export interface RecoveryChoice {
  mode: RecoveryModeId;
  steps: number;
  learningRate: number;
  /** Updates of linear warm-up before the cosine decay. */
  warmupSteps: number;
  batchSize: number;
  data: RecoveryDataId;
  /** LoRA's rank r and alpha (used in LoRA mode). */
  rank: number;
  alpha: number;
  /** Distillation's temperature (used in distillation mode). */
  temperature: number;
  /** Seeds the batch order and LoRA's initialisation. */
  seed: number;
}

export const MAX_RECOVERY_STEPS = 10_000;
/** The share of the steps spent warming up, by default. */
export const WARMUP_SHARE = 0.1;

/** A mode's defaults: 100 steps with 10% warm-up, batches of 8, the mode's learning rate (LoRA's is larger). */
export function defaultRecoveryChoice(mode: RecoveryModeId = 'finetune', steps = 100): RecoveryChoice {
  return {
    mode,
    steps,
    learningRate: recoveryModeEntry(mode).defaultLearningRate,
    warmupSteps: Math.round(steps * WARMUP_SHARE),
    batchSize: 8,
    data: 'calibration',
    rank: 8,
    alpha: 16,
    temperature: 2,
    seed: 0,
  };
}

/**
 * The newest link format this page reads. v2 added `source`, v3 `recovery`; a link is written at the
 * oldest version that holds it (v1 without either, which every earlier page reads), so a page
 * before a field refuses a link that needs it as newer instead of dropping it.
 */
export const LINK_VERSION = 3;
export const MAX_SPARSITY = 0.95;

/**
 * The field of the state that holds each allocation parameter the catalogue lists, by allocation
 * and parameter id: the controls, the recipe and the link all go through it.
 */
export const ALLOCATION_PARAMETER_FIELDS = {
  owl: { m: 'owlM', lambda: 'owlLambda' },
  evopress: { steps: 'evoSteps' },
} as const satisfies Partial<Record<AllocationId, Record<string, keyof ShareState>>>;

type ParameterFields = typeof ALLOCATION_PARAMETER_FIELDS;
/** A field of the state that holds an allocation parameter. */
export type ParameterField = {
  [A in keyof ParameterFields]: ParameterFields[A][keyof ParameterFields[A]];
}[keyof ParameterFields];

/** An allocation's parameters (from the catalogue), each with the field of the state that holds it. */
export function parameterFields(allocation: AllocationId): { parameter: AllocationParameter; field: ParameterField }[] {
  const fields: Record<string, ParameterField> | undefined =
    ALLOCATION_PARAMETER_FIELDS[allocation as keyof ParameterFields];
  return allocationParameters(allocation).map((parameter) => {
    const field = fields?.[parameter.id];
    if (!field) throw new Error(`the page keeps no field for ${allocation}'s parameter "${parameter.id}"`);
    return { parameter, field };
  });
}

/** Every allocation parameter's field with its catalogue entry. */
const PARAMETERS = ALLOCATIONS.flatMap((a) => parameterFields(a.id));
const PARAMETER_DEFAULTS = Object.fromEntries(PARAMETERS.map((p) => [p.field, p.parameter.default])) as Record<
  ParameterField,
  number
>;

export function defaultShareState(model = 'vit-fashion'): ShareState {
  return {
    model,
    source: null,
    method: 'magnitude',
    granularity: 'unstructured',
    score: 'default',
    scope: 'default',
    allocation: 'uniform',
    ...PARAMETER_DEFAULTS,
    calibSource: 'default',
    calibCount: model === 'gpt-bytes' ? 32 : 128,
    window: null,
    calibMode: 'default',
    sparsity: 0,
    tokenKeep: 1,
    axis: 'flops',
    chartColor: 'curve',
    layer: null,
    input: '',
    layerSparsity: null,
    bits: null,
    groupSize: 0,
    quantizer: QUANTIZERS[0].id,
    actOrder: false,
    symmetric: false,
    recovery: null,
  };
}

export class LinkError extends Error {}

const KEYS: (keyof ShareState)[] = [
  'model',
  'source',
  'method',
  'granularity',
  'score',
  'scope',
  'allocation',
  'owlM',
  'owlLambda',
  'evoSteps',
  'calibSource',
  'calibCount',
  'window',
  'calibMode',
  'sparsity',
  'tokenKeep',
  'axis',
  'chartColor',
  'layer',
  'input',
  'layerSparsity',
  'bits',
  'groupSize',
  'quantizer',
  'actOrder',
  'symmetric',
  'recovery',
];

function oneOf<T extends string>(v: unknown, options: readonly T[], name: string): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v))
    throw new LinkError(`"${name}" must be one of ${options.join(', ')}`);
  return v as T;
}

function num(v: unknown, name: string, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new LinkError(`"${name}" must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}

function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw new LinkError(`"${name}" must be true or false`);
  return v;
}

/** One of a list of numbers; null too where `orNull`. */
function numberOf<T extends number>(v: unknown, options: readonly T[], name: string, orNull: boolean): T | null {
  if (orNull && v === null) return null;
  if (typeof v !== 'number' || !(options as readonly number[]).includes(v))
    throw new LinkError(`"${name}" must be ${orNull ? 'null or ' : ''}one of ${options.join(', ')}`);
  return v as T;
}

const orDefault = <T extends string>(list: readonly T[]) => ['default', ...list] as ('default' | T)[];

/** Checks a decoded object field by field against the catalogue; throws LinkError naming the first bad field. */
export function parseFields(raw: unknown): ShareState {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new LinkError('the state is not an object');
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(KEYS as string[]).includes(k));
  if (unknown.length) throw new LinkError(`unknown field "${unknown[0].slice(0, 40)}"`);
  const d = defaultShareState(typeof o.model === 'string' ? o.model : undefined);
  const get = <K extends keyof ShareState>(k: K) => (k in o ? o[k] : d[k]);
  const model = get('model');
  const source = sourceField(get('source'));
  if (source) {
    if (model !== modelKeyOf(source)) throw new LinkError('"model" does not match the model\'s "source"');
  } else if (typeof model !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(model))
    throw new LinkError('"model" must be a model id (letters, digits, ".", "_", "-")');
  const layer = get('layer');
  const window = get('window');
  return {
    model: model as string,
    source,
    method: oneOf(get('method'), ids(METHODS), 'method'),
    granularity: oneOf(get('granularity'), ids(GRANULARITIES), 'granularity'),
    score: oneOf(get('score'), orDefault([...new Set(ids(STRUCTURED_SCORES))]), 'score'),
    scope: oneOf(get('scope'), orDefault(ids(SCOPES)), 'scope'),
    allocation: oneOf(get('allocation'), ids(ALLOCATIONS), 'allocation'),
    // Each allocation parameter within the catalogue's range (whole numbers where it says so).
    ...(Object.fromEntries(
      PARAMETERS.map(({ parameter: p, field }) => [field, num(get(field), field, p.min, p.max, p.integer)]),
    ) as Record<ParameterField, number>),
    calibSource: oneOf(get('calibSource'), orDefault(ids(CALIB_SOURCES)), 'calibSource'),
    calibCount: num(get('calibCount'), 'calibCount', 1, 1024, true),
    window: window === null ? null : num(window, 'window', 2, LONGEST_WINDOW, true),
    calibMode: oneOf(get('calibMode'), orDefault(ids(CALIBRATION_MODES)), 'calibMode'),
    sparsity: num(get('sparsity'), 'sparsity', 0, MAX_SPARSITY),
    tokenKeep: num(get('tokenKeep'), 'tokenKeep', 0.05, 1),
    axis: oneOf(get('axis'), AXES, 'axis'),
    chartColor: oneOf(get('chartColor'), CHART_COLORS, 'chartColor'),
    layer: layer === null ? null : num(layer, 'layer', 0, 255, true),
    input: inputField(get('input')),
    layerSparsity: layerSparsityField(get('layerSparsity')),
    bits: numberOf(get('bits'), QUANT_BITS, 'bits', true),
    groupSize: numberOf(get('groupSize'), QUANT_GROUP_SIZES, 'groupSize', false)!,
    quantizer: oneOf(get('quantizer'), ids(QUANTIZERS), 'quantizer'),
    actOrder: bool(get('actOrder'), 'actOrder'),
    symmetric: bool(get('symmetric'), 'symmetric'),
    recovery: get('recovery') === null ? null : checkRecoveryChoice(get('recovery')),
  };
}

/** A recovery's fields, each checked (the link's and the form's); one left out takes its mode's default. */
export function checkRecoveryChoice(v: unknown): RecoveryChoice {
  if (typeof v !== 'object' || Array.isArray(v)) throw new LinkError('"recovery" must be null or an object');
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !(k in defaultRecoveryChoice()));
  if (extra) throw new LinkError(`unknown field "recovery.${extra.slice(0, 40)}"`);
  const mode = oneOf(o.mode ?? 'finetune', ids(RECOVERY_MODES), 'recovery.mode');
  const steps = num(o.steps ?? 100, 'recovery.steps', 1, MAX_RECOVERY_STEPS, true);
  const d = defaultRecoveryChoice(mode, steps);
  const get = <K extends keyof RecoveryChoice>(k: K) => (k in o ? o[k] : d[k]);
  const learningRate = num(get('learningRate'), 'recovery.learningRate', 0, 1);
  if (learningRate === 0) throw new LinkError('"recovery.learningRate" must be above 0');
  return {
    mode,
    steps,
    learningRate,
    warmupSteps: num(get('warmupSteps'), 'recovery.warmupSteps', 0, steps, true),
    batchSize: num(get('batchSize'), 'recovery.batchSize', 1, 256, true),
    data: oneOf(get('data'), ids(RECOVERY_DATA), 'recovery.data'),
    rank: num(get('rank'), 'recovery.rank', 1, 256, true),
    alpha: num(get('alpha'), 'recovery.alpha', 0.01, 1024),
    temperature: num(get('temperature'), 'recovery.temperature', 0.1, 100),
    seed: num(get('seed'), 'recovery.seed', 0, 2 ** 31 - 1, true),
  };
}

/**
 * parseFields, then the combination against the catalogue (see fitLink): a choice the page used
 * to ignore goes back to its default, a refused one is a LinkError with the catalogue's reason.
 */
export function validateShareState(raw: unknown): ShareState {
  const fitted = fitLink(parseFields(raw));
  if ('refusal' in fitted) throw new LinkError(`these choices cannot be combined: ${fitted.refusal}`);
  return fitted.state;
}

/** The configuration's `model` for a model from elsewhere: "hf:org/name[@rev]", the URL, "files:<digest prefix>". */
export function modelKeyOf(source: LinkSource): string {
  switch (source.kind) {
    case 'hub':
      return `${HUB_PREFIX}${formatHubId(source)}`;
    case 'url':
      return source.url;
    case 'files':
      return `files:${source.digest.slice(0, 16)}`;
  }
}

export const MAX_LINK_FILES = 64;
const FILE_NAME = /^[A-Za-z0-9._() +-]{1,128}$/;

function sourceField(v: unknown): LinkSource | null {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new LinkError('"source" must be null or an object');
  const o = v as Record<string, unknown>;
  const only = (keys: string[]) => {
    const extra = Object.keys(o).find((k) => !keys.includes(k));
    if (extra) throw new LinkError(`unknown field "source.${extra.slice(0, 40)}"`);
  };
  try {
    switch (o.kind) {
      case 'hub': {
        only(['kind', 'id', 'revision']);
        if (typeof o.id !== 'string' || typeof o.revision !== 'string')
          throw new LinkError('"source" of a hub model needs "id" and "revision"');
        const ref = parseHubId(`${o.id}@${o.revision}`);
        if (ref.id !== o.id) throw new LinkError('"source.id" is not a hub model id');
        return { kind: 'hub', ...ref };
      }
      case 'url': {
        only(['kind', 'url']);
        if (typeof o.url !== 'string' || o.url.length > 2048) throw new LinkError('"source.url" must be a URL');
        const url = normalizeFolderUrl(o.url);
        if (url !== o.url) throw new LinkError('"source.url" must be a folder URL ending in "/"');
        return { kind: 'url', url };
      }
      case 'files': {
        only(['kind', 'files', 'digest']);
        const files = o.files;
        if (
          !Array.isArray(files) ||
          files.length < 1 ||
          files.length > MAX_LINK_FILES ||
          !files.every((f) => typeof f === 'string' && FILE_NAME.test(f))
        )
          throw new LinkError(`"source.files" must be a list of 1 to ${MAX_LINK_FILES} file names`);
        if (typeof o.digest !== 'string' || !/^[0-9a-f]{64}$/.test(o.digest))
          throw new LinkError('"source.digest" must be a SHA-256 in hex');
        return { kind: 'files', files: [...files], digest: o.digest };
      }
      default:
        throw new LinkError('"source.kind" must be hub, url or files');
    }
  } catch (e) {
    if (e instanceof SourceError) throw new LinkError(`"source": ${e.message}`);
    throw e;
  }
}

/** At most this many per-layer values (whether they fit the model is checked when it is loaded). */
export const MAX_LAYERS = 64;

function layerSparsityField(v: unknown): number[] | null {
  if (v === null) return null;
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_LAYERS)
    throw new LinkError(`"layerSparsity" must be null or a list of 1 to ${MAX_LAYERS} numbers`);
  return v.map((x, i) => num(x, `layerSparsity[${i}]`, 0, MAX_SPARSITY));
}

function inputField(v: unknown): string {
  if (typeof v !== 'string') throw new LinkError('"input" must be a string');
  parseInputCode(v);
  return v;
}

// ---------------------------------------------------------------------------------------------
// The inspected input as a compact code: '' the model's default input, 'e:<n>' eval image n,
// 't:<text>' text for a language model, 'd:<base64url>' a drawn 28×28 grayscale image at 4 bits a
// pixel (two pixels a byte, the first in the high nibble; 392 bytes, 523 characters).

export const DRAWN_SIZE = 28;
export const MAX_INPUT_TEXT = 256;
const DRAWN_BYTES = (DRAWN_SIZE * DRAWN_SIZE) / 2;
const MAX_EVAL_INDEX = 999_999;

export type InputChoice =
  | { kind: 'default' }
  | { kind: 'eval'; index: number }
  | { kind: 'text'; text: string }
  | { kind: 'drawn'; pixels: Uint8Array };

/** Reads an input code; a bad one is a LinkError that says what is wrong. */
export function parseInputCode(code: string): InputChoice {
  if (code === '') return { kind: 'default' };
  const body = code.slice(2);
  switch (code.slice(0, 2)) {
    case 'e:':
      if (!/^(0|[1-9]\d{0,5})$/.test(body) || Number(body) > MAX_EVAL_INDEX)
        throw new LinkError(`"input": eval image must be an index from 0 to ${MAX_EVAL_INDEX}`);
      return { kind: 'eval', index: Number(body) };
    case 't:':
      if (body.length === 0 || body.length > MAX_INPUT_TEXT)
        throw new LinkError(`"input": the text must have 1 to ${MAX_INPUT_TEXT} characters`);
      return { kind: 'text', text: body };
    case 'd:': {
      const bad = new LinkError(
        `"input": a drawn image must be ${DRAWN_SIZE}×${DRAWN_SIZE} pixels at 4 bits, base64url`,
      );
      let bytes: Uint8Array;
      try {
        bytes = fromBase64Url(body);
      } catch {
        throw bad;
      }
      // Only the canonical spelling: the same image always gives the same link.
      if (bytes.length !== DRAWN_BYTES || toBase64Url(bytes) !== body) throw bad;
      const pixels = new Uint8Array(DRAWN_SIZE * DRAWN_SIZE);
      bytes.forEach((b, i) => {
        pixels[2 * i] = (b >> 4) * 17;
        pixels[2 * i + 1] = (b & 15) * 17;
      });
      return { kind: 'drawn', pixels };
    }
    default:
      throw new LinkError('"input" must be empty or start with e: (eval image), t: (text) or d: (drawn image)');
  }
}

/** The code of an input; a drawn image (28×28, 0…255) is rounded to 4 bits a pixel. */
export function inputCode(choice: InputChoice): string {
  switch (choice.kind) {
    case 'default':
      return '';
    case 'eval':
      return `e:${choice.index}`;
    case 'text':
      return `t:${choice.text.slice(0, MAX_INPUT_TEXT)}`;
    case 'drawn': {
      if (choice.pixels.length !== DRAWN_SIZE * DRAWN_SIZE)
        throw new Error(`a drawn image has ${DRAWN_SIZE * DRAWN_SIZE} pixels, got ${choice.pixels.length}`);
      const q = (v: number) => Math.round(v / 17);
      const bytes = Uint8Array.from(
        { length: DRAWN_BYTES },
        (_, i) => (q(choice.pixels[2 * i]) << 4) | q(choice.pixels[2 * i + 1]),
      );
      return `d:${toBase64Url(bytes)}`;
    }
  }
}

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new LinkError('the link holds characters that base64url does not use');
  if (text.length % 4 === 1) throw new LinkError('the link is truncated');
  const b = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/**
 * "#v1.<base64url of the JSON of the fields that differ from the defaults>" (model always); "#v2."
 * when the model has a source; "#v3." with a recovery.
 */
export function encodeShareState(s: ShareState): string {
  const d = defaultShareState(s.model);
  const diff: Record<string, unknown> = { model: s.model };
  for (const k of KEYS) if (s[k] !== d[k]) diff[k] = s[k];
  const version = s.recovery ? 3 : s.source ? 2 : 1;
  return `#v${version}.${toBase64Url(new TextEncoder().encode(JSON.stringify(diff)))}`;
}

export type ParsedLink = { kind: 'none' } | { kind: 'ok'; state: ShareState } | { kind: 'error'; message: string };

/** Parses a location hash; an empty hash is 'none'. */
export function parseShareHash(hash: string): ParsedLink {
  const h = hash.replace(/^#/, '');
  if (!h) return { kind: 'none' };
  if (h.length > 4096) return { kind: 'error', message: 'The link is too long to be a workbench link.' };
  const m = /^v(\d{1,6})\.(.*)$/s.exec(h);
  if (!m)
    return { kind: 'error', message: 'The link is not a workbench link (it should start with #v1., #v2. or #v3.).' };
  const version = Number(m[1]);
  if (version > LINK_VERSION)
    return {
      kind: 'error',
      message: `The link was made by a newer version of the workbench (link format v${version}; this page reads v${LINK_VERSION}).`,
    };
  if (version < 1) return { kind: 'error', message: `Link format v${version} is not known.` };
  try {
    const bytes = fromBase64Url(m[2]);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      throw new LinkError('the link is corrupt or truncated (its data is not valid JSON)');
    }
    return { kind: 'ok', state: validateShareState(json) };
  } catch (e) {
    const msg = e instanceof LinkError ? e.message : 'the link could not be read';
    return { kind: 'error', message: `The link could not be used: ${msg}.` };
  }
}
