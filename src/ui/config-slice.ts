// The store's configuration slice: the pruning configuration and its results. `config` is exactly
// what the share link and localStorage hold (see ./share.ts); everything else here is derived or
// ephemeral: the current configuration's report, the sweeps' curves, progress. Engine work goes
// through the worker client.
import type { StateCreator } from 'zustand/vanilla';
import {
  errorMessage,
  isAbortError,
  type EngineClient,
  type ExportedFile,
  type Job,
  type Progress,
  type WorkbenchRecipe,
  type WorkbenchReport,
} from '../workers/client';
import type { Metrics, ModelSummary, PartialMetrics } from '../workers/client';
import { defaultShareState, encodeShareState, parseShareHash, validateShareState, type ShareState } from './share';
import type { WorkbenchState } from './store';
import { freeLayerSparsity, layerSparsityMismatch, meanSparsity } from './layer-sparsity';

export interface ChartPoint {
  /** Sparsity, or the share of structures / tokens removed. */
  amount: number;
  metric: number;
  flops: number;
  params: number;
  bytes: number;
}

export interface Curve {
  key: string;
  label: string;
  model: string;
  points: ChartPoint[];
  status: 'running' | 'done' | 'cancelled' | 'failed';
}

export type Current =
  | { status: 'idle' }
  /** `estimate`: the metric over the eval examples measured so far, once the first batch is in. */
  | { status: 'running'; progress: Progress; key: string; estimate?: PartialMetrics }
  | { status: 'done'; key: string; report: WorkbenchReport; point: ChartPoint }
  | { status: 'failed'; key: string; message: string }
  /** Stopped by the user (Cancel), not by a newer value. */
  | { status: 'cancelled'; key: string };

export interface SweepRun {
  key: string;
  progress: Progress;
}

export interface ConfigSlice {
  /** The shared part: what the link encodes. */
  config: ShareState;
  /** A message about the link the page was opened with (bad, future version...), or null. */
  linkMessage: string | null;
  current: Current;
  curves: Curve[];
  sweep: SweepRun | null;
  exporting: Progress | null;
  exportError: string | null;

  /** Reads the link (else localStorage); returns the model id to open. */
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

export const isStructured = (g: ShareState['granularity']) => g !== 'unstructured' && g !== 'nm';

/** The amount the slider sets for the configuration (tokens: the share dropped). */
export function amountOf(c: ShareState): number {
  if (c.granularity === 'tokens') return Math.round((1 - c.tokenKeep) * 1000) / 1000;
  if (c.granularity === 'nm') return 0.5;
  const free = freeLayerSparsity(c);
  return free ? meanSparsity(free) : c.sparsity;
}

export function recipeOf(c: ShareState, amount = amountOf(c)): WorkbenchRecipe {
  const calibration = { source: c.calibSource, count: c.calibCount, seed: 0 };
  const free = freeLayerSparsity(c);
  if (c.granularity === 'unstructured' || c.granularity === 'nm') {
    return {
      kind: 'unstructured',
      recipe: {
        method: c.method,
        sparsity: c.granularity === 'nm' ? 0.5 : amount,
        ...(c.scope === 'global' ? { scope: 'global' as const } : {}),
        nm: c.granularity === 'nm' ? { n: 2, m: 4 } : null,
        allocation: c.granularity === 'nm' ? 'uniform' : c.allocation,
        ...(free ? { blockSparsity: free } : {}),
        calibration,
        seed: 0,
      },
    };
  }
  return {
    kind: 'structured',
    recipe: {
      granularity: c.granularity,
      amount,
      ...(c.score !== 'default' && c.granularity !== 'tokens' && c.granularity !== 'sublayers'
        ? { score: c.score as never }
        : {}),
      scope: c.scope,
      calibration,
    },
  };
}

/** Which curve a configuration's points belong to. */
export function curveOf(c: ShareState): { key: string; label: string } {
  const calib = `${c.calibSource}×${c.calibCount}`;
  if (c.granularity === 'unstructured')
    return {
      key: `${c.model}|u|${c.method}|${c.allocation}|${c.scope}|${calib}`,
      label: `${c.method}${c.allocation !== 'uniform' ? ` · ${c.allocation}` : ''}${c.scope === 'global' ? ' · global' : ''}`,
    };
  if (c.granularity === 'nm') return { key: `${c.model}|nm|${c.method}|${calib}`, label: `${c.method} 2:4` };
  const score =
    c.score !== 'default' && c.granularity !== 'tokens' && c.granularity !== 'sublayers' ? ` · ${c.score}` : '';
  return { key: `${c.model}|${c.granularity}|${c.score}|${c.scope}|${calib}`, label: `${c.granularity}${score}` };
}

export const metricValue = (m: Metrics): number => (m.kind === 'classifier' ? m.accuracy : m.bitsPerByte);

export function pointOf(r: WorkbenchReport, amount: number): ChartPoint {
  return {
    amount,
    metric: metricValue(r.metric),
    flops: r.flops,
    params: r.nonzeroParams,
    bytes: r.bytes.nm24 ?? r.bytes.sparse,
  };
}

/** The dense model as a point: the baseline metric and the summary's costs. */
export function densePoint(summary: ModelSummary, metrics: Metrics): ChartPoint {
  return {
    amount: 0,
    metric: metricValue(metrics),
    flops: summary.cost.flops,
    params: summary.cost.params,
    bytes: 4 * summary.cost.params,
  };
}

interface Persisted {
  config: ShareState;
  curves: Curve[];
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
      points: c.points.filter(
        (p) =>
          p &&
          ['amount', 'metric', 'flops', 'params', 'bytes'].every((k) =>
            finite((p as unknown as Record<string, unknown>)[k]),
          ),
      ),
    }))
    .filter((c) => c.points.length > 0);
}

export interface ConfigSliceDeps {
  engine: () => EngineClient;
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
}

export function configSlice(deps: ConfigSliceDeps): StateCreator<WorkbenchState, [], [], ConfigSlice> {
  let pruneJob: Job<WorkbenchReport> | null = null;
  let pruneCancelledByUser = false;
  let sweepJob: Job<number> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  return (set, get) => {
    function persist() {
      if (!deps.storage) return;
      const { config, curves } = get();
      const data: Persisted = {
        config,
        curves: curves.filter((c) => c.points.length > 0).map((c) => ({ ...c, status: 'done' })),
      };
      try {
        deps.storage.setItem(STORAGE_KEY, JSON.stringify(data));
      } catch {
        // Storage full or blocked: the page still works.
      }
    }

    return {
      config: defaultShareState(),
      linkMessage: null,
      current: { status: 'idle' },
      curves: [],
      sweep: null,
      exporting: null,
      exportError: null,

      init(hash) {
        let stored: Persisted | null = null;
        try {
          const raw = deps.storage?.getItem(STORAGE_KEY);
          if (raw) {
            const p = JSON.parse(raw) as { config?: unknown; curves?: unknown };
            stored = { config: validateShareState(p.config), curves: validCurves(p.curves) };
          }
        } catch {
          stored = null;
        }
        const link = parseShareHash(hash);
        if (link.kind === 'ok') set({ config: link.state, curves: stored?.curves ?? [] });
        else if (link.kind === 'error')
          set({
            config: defaultShareState(),
            linkMessage: `${link.message} The default configuration is shown instead.`,
            curves: stored?.curves ?? [],
          });
        else if (stored) set({ config: stored.config, curves: stored.curves });
        return get().config.model;
      },

      setConfig(patch) {
        const before = get().config;
        const config = validateShareState({ ...before, ...patch });
        if (patch.model && patch.model !== before.model)
          Object.assign(config, { calibCount: defaultShareState(patch.model).calibCount, layerSparsity: null });
        set({ config });
        persist();
        const pruneKeys: (keyof ShareState)[] = [
          'method',
          'granularity',
          'score',
          'scope',
          'allocation',
          'calibSource',
          'calibCount',
          'sparsity',
          'tokenKeep',
          'layerSparsity',
        ];
        if (pruneKeys.some((k) => k in patch && patch[k] !== before[k])) {
          // Coalesce a burst of slider steps; a prune still running is cancelled by the next one.
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => {
            timer = null;
            get().prune();
          }, 120);
        }
      },

      prune() {
        const layers = get().model?.summary.layers;
        const mismatch = layers === undefined ? null : layerSparsityMismatch(get().config, layers);
        if (mismatch) {
          set({ config: { ...get().config, layerSparsity: null }, linkMessage: mismatch });
          persist();
        }
        const config = get().config;
        const key = JSON.stringify(recipeOf(config));
        if (amountOf(config) === 0) {
          pruneJob?.cancel();
          pruneJob = null;
          set({ current: { status: 'idle' } });
          return;
        }
        const job = deps.engine().prune(recipeOf(config), (progress) => {
          if (pruneJob !== job) return;
          // The latest estimate stays until a newer one (or the result) replaces it.
          const before = get().current;
          const estimate = progress.estimate ?? (before.status === 'running' ? before.estimate : undefined);
          set({ current: { status: 'running', key, progress, estimate } });
        });
        pruneJob = job;
        pruneCancelledByUser = false;
        set({ current: { status: 'running', key, progress: { label: 'Pruning', fraction: null } } });
        job.result.then(
          (report) => {
            if (pruneJob !== job) return;
            pruneJob = null;
            set({ current: { status: 'done', key, report, point: pointOf(report, amountOf(config)) } });
          },
          (e) => {
            if (pruneJob !== job) return;
            pruneJob = null;
            if (!isAbortError(e)) set({ current: { status: 'failed', key, message: errorMessage(e) } });
            else set({ current: pruneCancelledByUser ? { status: 'cancelled', key } : { status: 'idle' } });
          },
        );
      },

      cancelPrune() {
        if (!pruneJob) return;
        pruneCancelledByUser = true;
        pruneJob.cancel();
      },

      async runSweep(amounts = DEFAULT_SWEEP) {
        const config = get().config;
        if (config.granularity === 'nm') return;
        sweepJob?.cancel();
        const { key, label } = curveOf(config);
        const values = config.granularity === 'tokens' ? amounts.map((a) => Math.min(a, 0.95)) : amounts;
        set({
          curves: [
            ...get().curves.filter((c) => c.key !== key),
            { key, label, model: config.model, points: [], status: 'running' },
          ],
          sweep: { key, progress: { label: 'Starting the sweep', fraction: 0 } },
        });
        const update = (f: (c: Curve) => Curve) => set({ curves: get().curves.map((c) => (c.key === key ? f(c) : c)) });
        const job = deps.engine().sweep(
          // A sweep moves the global sparsity through the allocation; free per-layer values are one point.
          recipeOf({ ...config, layerSparsity: null }, values[0]),
          values,
          (report, i) => {
            if (sweepJob !== job) return;
            update((c) => ({ ...c, points: [...c.points, pointOf(report, values[i])] }));
            persist();
          },
          (progress) => {
            if (sweepJob === job) set({ sweep: { key, progress } });
          },
        );
        sweepJob = job;
        try {
          await job.result;
          if (sweepJob !== job) return;
          update((c) => ({ ...c, status: 'done' }));
        } catch (e) {
          if (sweepJob !== job) return;
          update((c) => ({ ...c, status: isAbortError(e) ? 'cancelled' : 'failed' }));
          if (!isAbortError(e)) set({ exportError: `The sweep failed: ${errorMessage(e)}` });
        } finally {
          if (sweepJob === job) {
            sweepJob = null;
            set({ sweep: null });
            persist();
          }
        }
      },

      cancelSweep() {
        sweepJob?.cancel();
      },

      async exportFiles() {
        set({ exporting: { label: 'Preparing the export', fraction: null }, exportError: null });
        try {
          const files = await deps.engine().exportFiles(recipeOf(get().config), (p) => set({ exporting: p })).result;
          set({ exporting: null });
          return files;
        } catch (e) {
          set({ exporting: null, exportError: isAbortError(e) ? null : `The export failed: ${errorMessage(e)}` });
          return null;
        }
      },

      shareUrl() {
        const url = new URL(window.location.href);
        url.hash = encodeShareState(get().config);
        url.search = '';
        return url.href;
      },

      clearCurves() {
        set({ curves: get().curves.filter((c) => c.status === 'running') });
        persist();
      },

      dismissLinkMessage() {
        set({ linkMessage: null });
      },
    };
  };
}
