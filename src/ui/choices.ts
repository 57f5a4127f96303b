// The page's pruning choices read against the catalogue (src/engine/pruning/catalogue.ts): which
// catalogue choices a configuration makes, what each control offers and which of its options the
// choices before it rule out, with the catalogue's reason (`refusal` is the one place that refuses
// a combination), and how a configuration goes back to one the catalogue accepts when an earlier
// choice changes. Pure data: the controls, the store and the share link all read it.
import {
  ALLOCATIONS,
  type AllocationId,
  allocationEntry,
  CALIBRATION_MODES,
  CALIBRATION_SOURCES,
  type CalibrationMode,
  type CalibrationSourceId,
  type Choices,
  citeLong,
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

/** OWL's parameters (outlier threshold M, spread λ): their ranges and defaults. */
export const OWL_PARAMETERS = allocationEntry('owl').parameters;

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
const ORDER = ['granularity', 'method', 'score', 'scope', 'allocation', 'calibMode'] as const;
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
  }
}

/** The catalogue's choices the configuration makes with its controls up to `through`. */
export function choicesOf(c: ChoiceState, family: Family, through: Field = 'calibMode'): Choices {
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
 * leaves a choice of split, the calibration mode for methods that have one.
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
}

/** "Wanda: … "Title" (Sun et al., ICLR 2024; arXiv:…). Implemented: …". */
function entryHelp(e: Described<string>): string {
  return `${e.label}: ${e.summary}${e.paper ? ` ${citeLong(e.paper)}.` : ''} Implemented: ${e.implements}.`;
}

/** A reason of the catalogue's as a sentence of its own. */
export const sentence = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;

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
  c: ChoiceState & { calibSource: CalibSourceChoice | 'default' },
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
  const reasons =
    <F extends Choosable>(f: F) =>
    (id: string) =>
      refusalOf(c, family, f, id as ChoiceState[F]) ?? streamReason(f, id as ChoiceState[F]);

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
  };
}

/** The stored choice for an option picked in a control: its default when it is what the default stands for. */
export function choiceFor<Id extends string>(ctl: Control<Id>, id: Id): Id | 'default' {
  return id === ctl.fallback ? 'default' : id;
}
