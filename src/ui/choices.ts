// The page's pruning choices read against the catalogue (src/engine/pruning/catalogue.ts): which
// catalogue choices a configuration makes, what each control offers and which of its options the
// choices before it rule out, with the catalogue's reason (`refusal` is the one place that refuses
// a combination), and how a configuration goes back to one the catalogue accepts when an earlier
// choice changes. Pure data: the controls, the store and the share link all read it.
import {
  ALLOCATIONS,
  type AllocationId,
  type AllocationParameter,
  allocationEntry,
  CALIBRATION_MODES,
  CALIBRATION_SOURCES,
  type CalibrationMode,
  type CalibrationSourceId,
  type Choices,
  citeLong,
  citeShort,
  defaultCalibrationMode,
  defaultScope,
  describeEntry,
  type Family,
  GRANULARITIES,
  type GranularityId,
  granularityEntry,
  ids,
  METHODS,
  type MethodId,
  type Paper,
  PAPERS,
  QUANT_BITS,
  QUANT_GROUP_SIZES,
  QUANTIZERS,
  type QuantizerId,
  refusal,
  streamRefusal,
  SCOPES,
  type Scope,
  STRUCTURED_SCORES,
  type StructuredGranularity,
  type StructuredScoreId,
  scoresFor,
} from '../engine/pruning/catalogue';

/** A choice left to the choices before it: the method's own scope, its family's calibration mode, the first score. */
export type ScoreChoice = 'default' | StructuredScoreId;
export type ScopeChoice = 'default' | Scope;
export type CalibModeChoice = 'default' | CalibrationMode;

/** The calibration sources the page offers: your own data cannot travel in a link, so it is the CLI's. */
export type CalibSourceChoice = Exclude<CalibrationSourceId, 'custom'>;
export const CALIB_SOURCES = CALIBRATION_SOURCES.filter(
  (s): s is (typeof CALIBRATION_SOURCES)[number] & { id: CalibSourceChoice } => s.id !== 'custom',
);

/** Which calibration sets the loaded model has: training data of its own, an evaluation set. */
export interface CalibSets {
  train: boolean;
  heldOut: boolean;
}

/** A model with every set: what a configuration resolves to before a model is known. */
export const ALL_SETS: CalibSets = { train: true, heldOut: true };

export const calibSetsOf = (s: { calibSet: boolean; evalSet: unknown }): CalibSets => ({
  train: s.calibSet,
  heldOut: s.evalSet !== null,
});

/** Why a calibration source cannot be used on a model with these sets; null when it can. */
function calibSourceRefusal(id: CalibSourceChoice, sets: CalibSets): string | null {
  if (id === 'train' && !sets.train) return 'this model came without training data (calib.safetensors)';
  if (id === 'held-out' && !sets.heldOut) return 'no evaluation data is loaded to calibrate on';
  return null;
}

/**
 * The source a default calibration stands for: the model's training data, else its evaluation data
 * (a user's checkpoint seldom brings calib.safetensors), else random inputs.
 */
export function resolveCalibSource(choice: CalibSourceChoice | 'default', sets: CalibSets): CalibSourceChoice {
  if (choice !== 'default') return choice;
  return sets.train ? 'train' : sets.heldOut ? 'held-out' : 'random';
}

/** An allocation's parameters as the catalogue lists them (OWL's M and λ, EvoPress's search steps). */
export const allocationParameters = (id: AllocationId): readonly AllocationParameter[] =>
  allocationEntry(id).parameters;

/** The bit widths the page offers (QUANT_BITS); null keeps the weights at 32-bit floats. */
export type QuantBits = (typeof QUANT_BITS)[number];
/** The group sizes the page offers (QUANT_GROUP_SIZES); 0 is one scale per output row. */
export type QuantGroupSize = (typeof QUANT_GROUP_SIZES)[number];

/** What of the configuration the catalogue reads. */
export interface ChoiceState {
  granularity: GranularityId;
  method: MethodId;
  score: ScoreChoice;
  scope: ScopeChoice;
  allocation: AllocationId;
  calibMode: CalibModeChoice;
  /** Each block's sparsity set by hand, or null (see perBlockRefusal for when it applies). */
  layerSparsity: number[] | null;
  /** Bits per kept weight, or null: no quantization. */
  bits: QuantBits | null;
  /** What puts the kept weights on the grid (read only with bits). */
  quantizer: QuantizerId;
  /** GPTQ's act-order. */
  actOrder: boolean;
}

/** The model families the catalogue's entries name. */
const FAMILIES: readonly Family[] = [...new Set(STRUCTURED_SCORES.flatMap((s) => s.families))];

/**
 * A family the choices can be read for before a model is loaded: one the chosen score applies to.
 * Nothing else the catalogue refuses depends on the family.
 */
export function familyOf(c: ChoiceState): Family {
  const score = STRUCTURED_SCORES.find((s) => s.id === c.score && s.granularity === c.granularity);
  return score?.families[0] ?? FAMILIES[0];
}

/** The controls, in the order each is read against the ones before it. */
const ORDER = [
  'granularity',
  'method',
  'score',
  'scope',
  'allocation',
  'calibMode',
  'bits',
  'quantizer',
  'actOrder',
] as const;
type Field = (typeof ORDER)[number];
type Choosable = Exclude<Field, 'granularity'>;
const CHOOSABLE = ORDER.filter((f): f is Choosable => f !== 'granularity');

/** What each choice is when nothing is chosen. */
const NONE = {
  method: METHODS[0].id,
  score: 'default',
  scope: 'default',
  allocation: 'uniform',
  calibMode: 'default',
  bits: null,
  quantizer: QUANTIZERS[0].id,
  actOrder: false,
} as const satisfies { [F in Choosable]: ChoiceState[F] };

/** The catalogue's choice one control of the configuration makes. */
function part(f: Field, c: ChoiceState, family: Family): Partial<Choices> {
  const usesMethod = granularityEntry(c.granularity).usesMethod;
  switch (f) {
    case 'granularity':
      return {};
    case 'method':
      return usesMethod ? { method: c.method } : {};
    case 'score':
      return !usesMethod && c.score !== 'default' ? { score: c.score } : {};
    case 'scope':
      return c.scope !== 'default' ? { scope: c.scope } : {};
    case 'allocation':
      // Blocks set by hand come with the allocation: they replace it.
      return {
        ...(c.allocation !== 'uniform' ? { allocation: c.allocation } : {}),
        ...(c.layerSparsity && perBlockRefusal(c, family) === null ? { perBlock: true } : {}),
      };
    case 'calibMode':
      return c.calibMode !== 'default' ? { calibrationMode: c.calibMode } : {};
    // Bits quantize by the chosen quantizer; the quantizer is read again at its own control, so
    // that its options are weighed with the bits before them.
    case 'bits':
    case 'quantizer':
      return c.bits !== null ? { quantizer: c.quantizer } : {};
    case 'actOrder':
      return c.actOrder ? { actOrder: true } : {};
  }
}

/** The catalogue's choices the configuration makes with its controls up to `through`. */
export function choicesOf(c: ChoiceState, family: Family, through: Field = ORDER[ORDER.length - 1]): Choices {
  const upTo = ORDER.slice(0, ORDER.indexOf(through) + 1);
  return Object.assign({ family, granularity: c.granularity }, ...upTo.map((f) => part(f, c, family)));
}

/** Why free per-block sparsities (the unlocked per-layer sliders) cannot apply to the choices; null when they can. */
export function perBlockRefusal(c: ChoiceState, family: Family): string | null {
  return refusal({ ...choicesOf(c, family, 'scope'), perBlock: true });
}

/** Why `value` for one control cannot be combined with the choices before it; null when it can. */
function refusalOf<F extends Field>(c: ChoiceState, family: Family, f: F, value: ChoiceState[F]): string | null {
  return refusal(choicesOf({ ...c, [f]: value }, family, f));
}

/**
 * The configuration with every choice the ones before it rule out back at its default, in the
 * controls' order, and the catalogue's reasons for each reset (none: nothing changed).
 */
export function fitChoices<T extends ChoiceState>(c: T, family: Family): { state: T; reasons: string[] } {
  let state = c;
  const reasons: string[] = [];
  for (const f of CHOOSABLE) {
    const why = refusal(choicesOf(state, family, f));
    if (why) {
      state = { ...state, [f]: NONE[f] };
      reasons.push(why);
    }
  }
  return { state, reasons };
}

/**
 * Whether the page shows a control for the choices before it: the method for weight pruning, the
 * score for structured pruning, the scope where one applies, the allocation where the granularity
 * leaves a choice of split, the calibration mode for methods that have one, the quantization where
 * the weights a method keeps are stored.
 */
function shown(f: Choosable, c: ChoiceState, family: Family): boolean {
  const g = granularityEntry(c.granularity);
  switch (f) {
    case 'method':
      return g.usesMethod;
    case 'score':
      return !g.usesMethod && scoresFor(c.granularity as StructuredGranularity, family).length > 0;
    case 'scope':
      return (g.usesMethod ? ids(SCOPES) : g.scopes).some((id) => refusalOf(c, family, 'scope', id) === null);
    case 'allocation':
      return (
        ALLOCATIONS.filter((a) => refusal({ family, granularity: c.granularity, allocation: a.id }) === null).length > 1
      );
    case 'calibMode':
      return g.usesMethod && defaultCalibrationMode(c.method, family) !== null;
    // The grid's controls show together, wherever some bit width can be chosen.
    case 'bits':
    case 'quantizer':
    case 'actOrder':
      return QUANT_BITS.some((b) => refusalOf(c, family, 'bits', b) === null);
  }
}

/**
 * A link's choices made acceptable, or the catalogue's reason they cannot be. A choice whose control
 * the page does not show for the choices before it goes back to its default, and an allocation
 * beside per-block values set by hand is uniform: links made before the controls followed the
 * catalogue hold such values (a scope under 2:4, an allocation under structured pruning), which
 * the page then ignored. A refused choice in a control the page shows is the link's error.
 */
export function fitLink<T extends ChoiceState>(c: T): { state: T } | { refusal: string } {
  const family = familyOf(c);
  let state = c.layerSparsity && perBlockRefusal(c, family) === null ? { ...c, allocation: NONE.allocation } : c;
  for (const f of CHOOSABLE) {
    const why = refusal(choicesOf(state, family, f));
    if (!why) continue;
    if (shown(f, state, family)) return { refusal: why };
    state = { ...state, [f]: NONE[f] };
  }
  return { state };
}

// ---- The controls ----

/** What the catalogue says of an entry. */
interface Described<Id extends string> {
  id: Id;
  label: string;
  summary: string;
  paper: Paper | null;
  implements: string;
}

export interface ControlOption<Id extends string = string> {
  id: Id;
  label: string;
  /** Its tooltip: what it does and its paper, or why it is ruled out. */
  title: string;
  disabled: boolean;
  /** Why the choices before it rule it out; null when they do not. */
  reason: string | null;
}

export interface Control<Id extends string = string> {
  /** The option the configuration has, a default resolved to what it stands for. */
  value: Id;
  /** What the default stands for now; choosing it leaves the choice to the choices before it. */
  fallback: Id;
  options: ControlOption<Id>[];
  /** The chosen entry: what it does, its paper, what of it the engine implements. */
  help: string;
  /** Each distinct reason an option is ruled out, as a sentence, for a note under the control. */
  notes: string[];
}

export interface Controls {
  granularity: Control<GranularityId>;
  /** Weight pruning (unstructured, N:M): the method; null where the granularity ranks by its own score. */
  method: Control<MethodId> | null;
  score: Control<StructuredScoreId> | null;
  /** null where no scope applies (2:4, blocks, sublayers, tokens). */
  scope: Control<Scope> | null;
  /** null where the granularity splits no weight sparsity over blocks (2:4, structured). */
  allocation: Control<AllocationId> | null;
  /** null for methods that gather no calibration statistics block by block. */
  calibMode: Control<CalibrationMode> | null;
  calibSource: Control<CalibSourceChoice>;
  /** Why the per-layer sliders cannot be unlocked; null when they can. */
  perBlock: string | null;
  /** The kept weights' grid; null where no weights are kept by a method (structured pruning). */
  quant: QuantControls | null;
}

/** A checkbox's state: on or off, and why it cannot be turned on. */
export interface Toggle {
  checked: boolean;
  disabled: boolean;
  /** Why it is disabled, as a sentence; null when it is not. */
  reason: string | null;
  help: string;
}

/** The grid's settings beside the catalogue's choices: they rule nothing out. */
export interface QuantGrid {
  groupSize: QuantGroupSize;
  symmetric: boolean;
}

/** 'off' or the bits, as the select's values. */
export type BitsId = 'off' | `${QuantBits}`;
export type GroupSizeId = `${QuantGroupSize}`;

export interface QuantControls {
  bits: Control<BitsId>;
  groupSize: Control<GroupSizeId>;
  quantizer: Control<QuantizerId>;
  actOrder: Toggle;
  symmetric: Toggle;
  /** No bits chosen: the grid's settings wait for them. */
  off: boolean;
}

/** The bits of a select's value. */
export const bitsOf = (id: BitsId): QuantBits | null => (id === 'off' ? null : (Number(id) as QuantBits));
export const bitsId = (bits: QuantBits | null): BitsId => (bits === null ? 'off' : `${bits}`);

/** "per channel", "128 columns". */
export const groupSizeLabel = (g: number): string => (g === 0 ? 'per channel' : `${g} columns`);

const GPTQ_CITE = citeShort(PAPERS.frantar2023gptq);
const BITS_HELP = `Bits per kept weight: each is stored as an integer code on its group's grid, scale · (code − zero), with a 16-bit scale per output row and group. Off keeps 32-bit floats. Pruned weights stay exactly 0 and are not stored (${GPTQ_CITE}).`;
const GROUP_HELP = `Input columns that share one scale and zero point: per channel is one per output row; smaller groups follow the weights more closely and store more scales (GPTQ's groups, ${GPTQ_CITE}).`;
const SYMMETRIC_HELP =
  'A grid symmetric around 0: the zero point is fixed at the middle code and not stored. Off: each group has its own zero point, fitted to its smallest and largest weight.';
const ACT_ORDER_HELP = `GPTQ's act-order: the columns are quantized by decreasing Hessian diagonal, the inputs that carry the most first, while the errors of the others can still be repaired (${GPTQ_CITE}).`;
const NO_BITS = 'no quantization: choose the bits first';

/** "Wanda: … "Title" (Sun et al., ICLR 2024; arXiv:…). Implemented: …". */
function entryHelp(e: Described<string>): string {
  return `${e.label}: ${e.summary}${e.paper ? ` ${citeLong(e.paper)}.` : ''} Implemented: ${e.implements}.`;
}

/** A reason of the catalogue's as a sentence of its own. */
export const sentence = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;

/** A control over plain values (bits, group sizes): one help for all, an option ruled out with its reason. */
function valueControl<Id extends string>(
  options: readonly { id: Id; label: string }[],
  value: Id,
  fallback: Id,
  help: string,
  reasonOf: (id: Id) => string | null,
): Control<Id> {
  const all = options.map((o): ControlOption<Id> => {
    const reason = reasonOf(o.id);
    return { ...o, title: reason ?? o.label, disabled: reason !== null, reason };
  });
  const notes = [...new Set(all.flatMap((o) => (o.reason ? [sentence(o.reason)] : [])))];
  return { value, fallback, options: all, help, notes };
}

function control<Id extends string>(
  entries: readonly Described<Id>[],
  value: Id,
  fallback: Id,
  reasonOf: (id: Id) => string | null,
): Control<Id> {
  const options = entries.map((e): ControlOption<Id> => {
    const reason = reasonOf(e.id);
    return { id: e.id, label: e.label, title: reason ?? describeEntry(e), disabled: reason !== null, reason };
  });
  const chosen = entries.find((e) => e.id === value) ?? entries[0];
  const notes = [...new Set(options.flatMap((o) => (o.reason ? [sentence(o.reason)] : [])))];
  return { value, fallback, options, help: entryHelp(chosen), notes };
}

const resolve = <Id extends string>(choice: Id | 'default', fallback: Id): Id =>
  choice === 'default' ? fallback : choice;

/**
 * Every control's options for the configuration on a model family, each ruled out (with the
 * catalogue's reason) when the choices before it cannot be combined with it. Controls where no
 * choice applies are null: the page hides them.
 */
export function controlsFor(
  c: ChoiceState & QuantGrid & { calibSource: CalibSourceChoice | 'default' },
  family: Family,
  sets: CalibSets = ALL_SETS,
  /** The model is read a block at a time: what needs the whole model at once is ruled out too. */
  streamed = false,
): Controls {
  const g = granularityEntry(c.granularity);
  const streamReason = <F extends Field>(f: F, id: ChoiceState[F]) => {
    const why = streamed ? streamRefusal(choicesOf({ ...c, [f]: id }, family, f)) : null;
    return why && `read a block at a time: ${why}`;
  };
  const reasonFor = <F extends Choosable>(f: F, value: ChoiceState[F]) =>
    refusalOf(c, family, f, value) ?? streamReason(f, value);
  const reasons =
    <F extends Choosable>(f: F) =>
    (id: string) =>
      reasonFor(f, id as ChoiceState[F]);

  const method = g.usesMethod ? control(METHODS, c.method, NONE.method, reasons('method')) : null;

  const scores = g.usesMethod ? [] : scoresFor(c.granularity as StructuredGranularity, family);
  const score =
    scores.length > 0 ? control(scores, resolve(c.score, scores[0].id), scores[0].id, reasons('score')) : null;

  const scopeFallback = g.usesMethod ? defaultScope(c.method) : g.scopes[0];
  const scopes = g.usesMethod ? SCOPES : SCOPES.filter((s) => g.scopes.includes(s.id as (typeof g.scopes)[number]));
  const scope = shown('scope', c, family)
    ? control(scopes, resolve(c.scope, scopeFallback), scopeFallback, reasons('scope'))
    : null;

  const allocation = shown('allocation', c, family)
    ? control(ALLOCATIONS, c.allocation, NONE.allocation, reasons('allocation'))
    : null;

  const modeFallback = defaultCalibrationMode(c.method, family);
  const calibMode =
    shown('calibMode', c, family) && modeFallback
      ? control(CALIBRATION_MODES, resolve(c.calibMode, modeFallback), modeFallback, reasons('calibMode'))
      : null;

  const quant = shown('bits', c, family) ? quantControls(c, reasonFor) : null;

  return {
    granularity: control(GRANULARITIES, c.granularity, GRANULARITIES[0].id, (id) =>
      streamReason('granularity', id as ChoiceState['granularity']),
    ),
    method,
    score,
    scope,
    allocation,
    calibMode,
    calibSource: control(
      CALIB_SOURCES,
      resolveCalibSource(c.calibSource, sets),
      resolveCalibSource('default', sets),
      (id) => calibSourceRefusal(id, sets),
    ),
    perBlock: perBlockRefusal(c, family),
    quant,
  };
}

/** The quantization controls: bits and quantizer weighed against the choices before them, act-order after both. */
function quantControls(
  c: ChoiceState & QuantGrid,
  reasonFor: <F extends Choosable>(f: F, value: ChoiceState[F]) => string | null,
): QuantControls {
  const off = c.bits === null;
  const bitOptions = [
    { id: 'off' as const, label: 'off' },
    ...QUANT_BITS.map((b) => ({ id: `${b}` as const, label: `${b}-bit` })),
  ];
  const bits = valueControl<BitsId>(bitOptions, bitsId(c.bits), 'off', BITS_HELP, (id) => {
    const b = bitsOf(id);
    return b === null ? null : reasonFor('bits', b);
  });
  // The group size is the grid's, not the catalogue's: nothing rules one out but the bits being off.
  const groupSize = valueControl<GroupSizeId>(
    QUANT_GROUP_SIZES.map((g) => ({ id: `${g}` as const, label: groupSizeLabel(g) })),
    `${c.groupSize}` as GroupSizeId,
    '0',
    GROUP_HELP,
    () => null,
  );
  const quantizer = control(QUANTIZERS, c.quantizer, NONE.quantizer, (id) => reasonFor('quantizer', id));
  const actReason = c.actOrder ? null : reasonFor('actOrder', true);
  return {
    bits,
    groupSize,
    quantizer,
    actOrder: {
      checked: c.actOrder,
      disabled: actReason !== null,
      reason: actReason && sentence(actReason),
      help: ACT_ORDER_HELP,
    },
    symmetric: {
      checked: c.symmetric,
      disabled: off,
      reason: off ? sentence(NO_BITS) : null,
      help: SYMMETRIC_HELP,
    },
    off,
  };
}

/** The stored choice for an option picked in a control: its default when it is what the default stands for. */
export function choiceFor<Id extends string>(ctl: Control<Id>, id: Id): Id | 'default' {
  return id === ctl.fallback ? 'default' : id;
}
