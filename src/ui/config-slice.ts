// The store's configuration slice: the pruning configuration and its results. `config` is exactly
// what the share link and the browser's storage hold (see ./share.ts; the store persists it); the
// rest is what the worker answered: the current configuration's report, the sweeps' curves, an
// export. Engine work goes through the worker client, each kind of job in its slot (./jobs.ts).
import type { StateCreator } from 'zustand/vanilla';
import {
  defaultCalibrationMode,
  defaultScope,
  type Family,
  granularityEntry,
  type GranularityId,
  scoresFor,
  type StructuredGranularity,
} from '../engine/pruning/catalogue';
import {
  type CalibrationSpec,
  type EngineClient,
  type ExportedFile,
  headlineOf,
  type Metrics,
  type ModelSummary,
  type PruneRecipe,
  type WorkbenchRecipe,
  type WorkbenchReport,
} from '../workers/client';
import type { SearchProgress } from '../workers/api';
import { ALL_SETS, type CalibSets, calibSetsOf, familyOf, fitChoices, resolveCalibSource, sentence } from './choices';
import { IDLE, type JobState, type Jobs, mapJob } from './jobs';
import { freeLayerSparsity, layerSparsityMismatch, meanSparsity } from './layer-sparsity';
import {
  defaultShareState,
  encodeShareState,
  parameterFields,
  parseFields,
  parseShareHash,
  type ShareState,
  validateShareState,
} from './share';
import type { WorkbenchState } from './store';
import { recoveryRequestOf } from './recovery';

export interface ChartPoint {
  /** Sparsity, or the share of structures / tokens removed. */
  amount: number;
  metric: number;
  flops: number;
  params: number;
  /** The model as stored (SizeReport.stored): its kept weights at their bits, with masks and scales. */
  bytes: number;
  /** Bits of the kept weights: 32 unquantized. */
  bits: number;
}

/** The bits of a point whose weights are not quantized. */
export const FULL_BITS = 32;

export interface Curve {
  key: string;
  label: string;
  model: string;
  points: ChartPoint[];
  status: 'running' | 'done' | 'cancelled' | 'failed';
}

/** A measured configuration: the worker's report and its point on the chart. */
export interface Measured {
  report: WorkbenchReport;
  point: ChartPoint;
  /** Where a searched allocation (EvoPress) ended: its last generation's best split; none for others. */
  search?: SearchProgress | null;
}

export interface ConfigSlice {
  /** The shared part: what the link encodes. */
  config: ShareState;
  /** A message about the link the page was opened with (bad, future version...), or null. */
  linkMessage: string | null;
  /** The current configuration, pruned and measured; while running, `progress.estimate` is the metric so far. */
  current: JobState<Measured>;
  curves: Curve[];
  /** The sweep running, or how the last one ended; its value is the number of points measured. */
  sweep: JobState<number>;
  /** The export; its files go to the download, not into the store. */
  exporting: JobState<ExportedFile[]>;

  /** Reads the link (the browser's storage is read when the store is made); returns the model id to open. */
  init(hash: string): string;
  setConfig(patch: Partial<ShareState>): void;
  /** Prunes the current configuration (cancelling any prune still running). */
  prune(): void;
  /** Stops the prune in flight (SparseGPT or a sensitivity allocation can take long). */
  cancelPrune(): void;
  runSweep(amounts?: number[]): Promise<void>;
  cancelSweep(): void;
  exportFiles(): Promise<ExportedFile[] | null>;
  shareUrl(): string;
  clearCurves(): void;
  dismissLinkMessage(): void;
}

export const STORAGE_KEY = 'pruning-workbench:v1';
export const DEFAULT_SWEEP = [0.3, 0.6];

export const isStructured = (g: GranularityId) => !granularityEntry(g).usesMethod;

/** The amount the slider sets for the configuration (tokens: the share dropped). */
export function amountOf(c: ShareState): number {
  if (c.granularity === 'tokens') return Math.round((1 - c.tokenKeep) * 1000) / 1000;
  if (c.granularity === 'nm') return 0.5;
  const free = freeLayerSparsity(c);
  return free ? meanSparsity(free) : c.sparsity;
}

/** The configuration's quantization as the recipe takes it; null when the weights stay 32-bit or no method keeps them. */
export function quantOf(c: ShareState): PruneRecipe['quant'] {
  if (c.bits === null || isStructured(c.granularity)) return null;
  return {
    bits: c.bits,
    groupSize: c.groupSize,
    symmetric: c.symmetric,
    actOrder: c.actOrder,
    quantizer: c.quantizer,
  };
}

/** Whether the configuration changes the model at all: something pruned, or the weights quantized. */
export const changesModel = (c: ShareState): boolean => amountOf(c) > 0 || quantOf(c) !== null;

/** The calibration data the configuration names, its default resolved on a model with `sets`. */
export const calibrationOf = (c: ShareState, sets: CalibSets = ALL_SETS): CalibrationSpec => ({
  source: resolveCalibSource(c.calibSource, sets),
  count: c.calibCount,
  seed: 0,
  ...(c.window === null ? {} : { length: c.window }),
});

/**
 * The recipe the worker runs for a configuration on a model family, every default filled in from
 * the catalogue (scope, score, calibration mode, OWL's parameters), so that one configuration has
 * one recipe whichever way its choices were spelled. Free per-block values replace the allocation.
 */
export function recipeOf(
  c: ShareState,
  family: Family,
  amount = amountOf(c),
  sets: CalibSets = ALL_SETS,
): WorkbenchRecipe {
  const calibration = calibrationOf(c, sets);
  const g = granularityEntry(c.granularity);
  if (g.usesMethod) {
    const nm = c.granularity === 'nm';
    const free = freeLayerSparsity(c);
    const allocation = nm || free ? 'uniform' : c.allocation;
    const mode = c.calibMode === 'default' ? defaultCalibrationMode(c.method, family) : c.calibMode;
    // The allocation's parameters go under its id ({ owl: { m, lambda } }, { evopress: { steps } }).
    const params = parameterFields(allocation);
    const quant = quantOf(c);
    return {
      kind: 'unstructured',
      recipe: {
        method: c.method,
        sparsity: nm ? 0.5 : amount,
        ...(nm ? {} : { scope: c.scope === 'default' ? defaultScope(c.method) : c.scope }),
        nm: nm ? { n: 2, m: 4 } : null,
        allocation,
        ...(params.length
          ? { [allocation]: Object.fromEntries(params.map(({ parameter, field }) => [parameter.id, c[field]])) }
          : {}),
        ...(free ? { blockSparsity: free } : {}),
        ...(mode ? { calibrationMode: mode } : {}),
        ...(quant ? { quant } : {}),
        calibration,
        seed: 0,
      },
    };
  }
  const scores = scoresFor(c.granularity as StructuredGranularity, family);
  return {
    kind: 'structured',
    recipe: {
      granularity: c.granularity as StructuredGranularity,
      amount,
      ...(scores.length ? { score: c.score === 'default' ? scores[0].id : c.score } : {}),
      ...(g.scopes.length ? { scope: g.scopes.find((x) => x === c.scope) ?? g.scopes[0] } : {}),
      calibration,
    },
  };
}

/** recipeOf on the loaded model: its family, and the calibration sets it has for a default source. */
export const recipeFor = (c: ShareState, summary: ModelSummary, amount = amountOf(c)): WorkbenchRecipe =>
  recipeOf(c, summary.family, amount, calibSetsOf(summary));

/**
 * Which curve a configuration's points belong to: one per model and recipe but for the amount the
 * sweep moves; labelled by the method (or granularity) and what differs from its defaults.
 */
export function curveOf(c: ShareState, family: Family, sets: CalibSets = ALL_SETS): { key: string; label: string } {
  const key = `${c.model}|${JSON.stringify(recipeOf({ ...c, layerSparsity: null }, family, 0, sets))}`;
  const parts = isStructured(c.granularity)
    ? [c.granularity, c.score]
    : [c.method, c.granularity === 'nm' ? '2:4' : 'default', c.allocation, c.scope, c.calibMode, quantLabel(c)];
  return { key, label: parts.filter((p) => p !== 'default' && p !== 'uniform').join(' · ') };
}

/** "4-bit g128", with what differs from the grid's defaults ("3-bit gptq sym act-order"); 'default' unquantized. */
export function quantLabel(c: ShareState): string {
  const q = quantOf(c);
  if (!q) return 'default';
  const d = defaultShareState();
  return [
    `${q.bits}-bit${q.groupSize ? ` g${q.groupSize}` : ''}`,
    q.quantizer !== d.quantizer ? q.quantizer : '',
    q.symmetric ? 'sym' : '',
    q.actOrder ? 'act-order' : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** The bits a report's weights were stored at (32 where they were not quantized). */
export const bitsOfReport = (r: WorkbenchReport): number =>
  ('quant' in r.recipe ? r.recipe.quant?.bits : null) ?? FULL_BITS;

export function pointOf(r: WorkbenchReport, amount: number): ChartPoint {
  return {
    amount,
    metric: headlineOf(r.metric),
    flops: r.flops,
    params: r.nonzeroParams,
    bytes: r.bytes.stored,
    bits: bitsOfReport(r),
  };
}

/** The dense model as a point: the baseline metric and the summary's costs (every parameter a 32-bit float). */
export function densePoint(summary: ModelSummary, metrics: Metrics): ChartPoint {
  return {
    amount: 0,
    metric: headlineOf(metrics),
    flops: summary.cost.flops,
    params: summary.cost.params,
    bytes: 4 * summary.cost.params,
    bits: FULL_BITS,
  };
}

/** What the browser's storage keeps: the configuration and the curves with points. */
export interface Kept {
  config: ShareState;
  curves: Curve[];
}

export const keptOf = (s: Kept): Kept => ({ config: s.config, curves: s.curves.filter((c) => c.points.length > 0) });

/**
 * What the storage held, checked as strictly as a link: a configuration that does not pass gives
 * the defaults, curves keep only their well-formed points (a sweep cut short by a reload is done).
 */
export function restoredOf(stored: unknown): Partial<Kept> {
  const s = typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>) : {};
  let config: ShareState | null = null;
  try {
    config = validateShareState(s.config);
  } catch {
    // Corrupt, or written by another version of the page: the defaults.
  }
  return { ...(config ? { config } : {}), curves: validCurves(s.curves) };
}

function validCurves(raw: unknown): Curve[] {
  if (!Array.isArray(raw)) return [];
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  return raw
    .filter(
      (c): c is Curve =>
        !!c &&
        typeof c.key === 'string' &&
        typeof c.label === 'string' &&
        typeof c.model === 'string' &&
        Array.isArray(c.points),
    )
    .map((c) => ({
      key: c.key,
      label: c.label,
      model: c.model,
      status: 'done' as const,
      points: c.points
        .filter(
          (p) =>
            p &&
            ['amount', 'metric', 'flops', 'params', 'bytes'].every((k) =>
              finite((p as unknown as Record<string, unknown>)[k]),
            ),
        )
        // Points kept before quantization came to the page were all 32-bit.
        .map((p) => ({ ...p, bits: finite(p.bits) ? p.bits : FULL_BITS })),
    }))
    .filter((c) => c.points.length > 0);
}

export interface ConfigSliceDeps {
  engine: () => EngineClient;
  jobs: Jobs;
}

/** The fields whose change is pruned and measured again. */
const PRUNE_KEYS: (keyof ShareState)[] = [
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
  'calibMode',
  'sparsity',
  'tokenKeep',
  'layerSparsity',
  'bits',
  'groupSize',
  'quantizer',
  'actOrder',
  'symmetric',
];

export function configSlice(deps: ConfigSliceDeps): StateCreator<WorkbenchState, [], [], ConfigSlice> {
  return (set, get) => {
    const pruning = deps.jobs.slot(
      () => get().current,
      (current) => set({ current }),
    );
    const sweeping = deps.jobs.slot(
      () => get().sweep,
      (sweep) => set({ sweep }),
    );
    const exporting = deps.jobs.slot(
      () => get().exporting,
      (exporting) => set({ exporting }),
    );
    // A slider step prunes at once; a drag's burst of steps prunes every 120 ms, its last step last.
    // A prune still running is cancelled by the next one.
    const pruneSoon = deps.jobs.throttle(120, () => get().prune());
    /** The newest sweep: a curve whose sweep a newer one of the same curve replaced belongs to that one. */
    let latestSweep = { run: 0, key: '' };

    /** The loaded model's family; before one is loaded, one the choices fit. */
    const family = (c: ShareState): Family => get().model?.summary.family ?? familyOf(c);

    /**
     * Brings the configuration to the loaded model: per-layer values for another number of blocks
     * and choices the model's family rules out (a score for the other architecture) go back to
     * their defaults, with a message saying why.
     */
    function fitToModel() {
      const model = get().model;
      if (!model) return;
      const config = get().config;
      const mismatch = layerSparsityMismatch(config, model.summary.layers);
      if (mismatch) set({ config: { ...config, layerSparsity: null }, linkMessage: mismatch });
      const { state, reasons } = fitChoices(get().config, model.summary.family);
      if (reasons.length === 0) return;
      set({
        config: state,
        notice: {
          title: 'Part of the configuration does not apply to this model',
          message: `${reasons.map(sentence).join(' ')} The default is used instead.`,
        },
      });
    }

    return {
      config: defaultShareState(),
      linkMessage: null,
      current: IDLE,
      curves: [],
      sweep: IDLE,
      exporting: IDLE,

      init(hash) {
        const link = parseShareHash(hash);
        if (link.kind === 'ok')
          set({ config: link.state, ...(link.state.recovery ? { recoveryDraft: link.state.recovery } : {}) });
        else if (link.kind === 'error')
          set({
            config: defaultShareState(),
            linkMessage: `${link.message} The default configuration is shown instead.`,
          });
        return get().config.model;
      },

      setConfig(patch) {
        const before = get().config;
        // A model named without a source is one the page ships.
        const merged = parseFields({
          ...before,
          ...('model' in patch && !('source' in patch) ? { source: null } : {}),
          ...patch,
        });
        if (patch.model && patch.model !== before.model)
          Object.assign(merged, {
            calibCount: defaultShareState(patch.model).calibCount,
            window: null,
            layerSparsity: null,
          });
        // An earlier choice that rules out a later one puts the later one back to its default.
        const fitted = fitChoices(merged, family(merged)).state;
        // A recovery was of the pruned model the configuration named: another one has none yet.
        const prunes = PRUNE_KEYS.some((k) => JSON.stringify(fitted[k]) !== JSON.stringify(before[k]));
        const config =
          (prunes || fitted.model !== before.model) && !('recovery' in patch) ? { ...fitted, recovery: null } : fitted;
        set({ config });
        // A new window measures the baseline again, then prunes.
        if (config.window !== before.window && get().model) void get().applyWindow();
        else if (prunes) pruneSoon();
      },

      prune() {
        const model = get().model;
        if (!model) return;
        fitToModel();
        // The recovery shown was of the result this prune replaces.
        get().dropRecovery();
        const config = get().config;
        const amount = amountOf(config);
        // Unpruned and unquantized, the model is the dense one: nothing to measure.
        if (!changesModel(config)) {
          pruning.reset();
          return;
        }
        const recipe = recipeFor(config, model.summary);
        // The search's last best split, kept for the report it leads to.
        let search: SearchProgress | null = null;
        const pruned = pruning.start(
          JSON.stringify(recipe),
          (onProgress) =>
            mapJob(
              deps.engine().prune(recipe, (progress) => {
                // The latest estimate stays until a newer one (or the result) replaces it.
                const before = get().current;
                const estimate =
                  progress.estimate ?? (before.status === 'running' ? before.progress.estimate : undefined);
                search = progress.search ?? search;
                onProgress({ ...progress, estimate });
              }),
              (report) => ({ report, point: pointOf(report, amount), search }),
            ),
          { label: 'Pruning', fraction: null },
        );
        // A configuration with a recovery (a link's, a reload's) shows the recovered model: train it again.
        void pruned.then((outcome) => {
          const recovery = get().config.recovery;
          if (outcome.status === 'done' && recovery) void get().recover(recovery);
        });
      },

      cancelPrune() {
        pruning.cancel();
      },

      async runSweep(amounts = DEFAULT_SWEEP) {
        const model = get().model;
        const config = get().config;
        if (!model || config.granularity === 'nm') return;
        const { key, label } = curveOf(config, model.summary.family, calibSetsOf(model.summary));
        const run = latestSweep.run + 1;
        latestSweep = { run, key };
        const values = config.granularity === 'tokens' ? amounts.map((a) => Math.min(a, 0.95)) : amounts;
        const update = (f: (c: Curve) => Curve) => set({ curves: get().curves.map((c) => (c.key === key ? f(c) : c)) });
        set({
          curves: [
            ...get().curves.filter((c) => c.key !== key),
            { key, label, model: config.model, points: [], status: 'running' },
          ],
        });
        const outcome = await sweeping.start(
          key,
          (onProgress) =>
            deps.engine().sweep(
              // A sweep moves the global sparsity through the allocation; free per-layer values are one point.
              recipeFor({ ...config, layerSparsity: null }, model.summary, values[0]),
              values,
              (report, i) => {
                if (latestSweep.run === run)
                  update((c) => ({ ...c, points: [...c.points, pointOf(report, values[i])] }));
              },
              onProgress,
            ),
          { label: 'Starting the sweep', fraction: 0 },
        );
        if (latestSweep.run !== run && latestSweep.key === key) return;
        const status = outcome.status === 'done' || outcome.status === 'failed' ? outcome.status : 'cancelled';
        update((c) => ({ ...c, status }));
      },

      cancelSweep() {
        sweeping.cancel();
      },

      async exportFiles() {
        const model = get().model;
        if (!model) return null;
        const config = get().config;
        const recipe = recipeFor(config, model.summary);
        const recovery = config.recovery && recoveryRequestOf(config.recovery, recipe);
        const outcome = await exporting.start(
          JSON.stringify(recipe),
          (onProgress) => deps.engine().exportFiles(recipe, onProgress, recovery),
          { label: 'Preparing the export', fraction: null },
        );
        if (outcome.status !== 'done') return null;
        exporting.reset();
        return outcome.value;
      },

      shareUrl() {
        const url = new URL(window.location.href);
        url.hash = encodeShareState(get().config);
        // The hub the page resolves ids against travels with the link (a mirror, a test's server).
        const hub = url.searchParams.get('hub');
        url.search = '';
        if (hub) url.searchParams.set('hub', hub);
        return url.href;
      },

      clearCurves() {
        set({ curves: get().curves.filter((c) => c.status === 'running'), recoveredPoints: [] });
      },

      dismissLinkMessage() {
        set({ linkMessage: null });
      },
    };
  };
}
