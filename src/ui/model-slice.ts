// The store's model slice: the catalog, the loaded model, its baseline metric, loading progress and
// notices, with the actions that change them. Every engine call goes through the worker client; the
// jobs in flight are kept in the slice's closure so they can be cancelled.
import type { StateCreator } from 'zustand/vanilla';
import {
  errorMessage,
  isAbortError,
  type BackendInfo,
  type BackendName,
  type EngineClient,
  type Job,
  type Metrics,
  type ModelSummary,
  type OpenResult,
  type Progress,
} from '../workers/client';
import type { WorkbenchState } from './store';

export interface CatalogEntry {
  id: string;
  name: string;
  task: string;
}

export type ModelSource = { kind: 'default'; id: string } | { kind: 'files'; files: string[] };

export interface LoadedModel {
  /** Changes with every model opened, so late answers about an older one are recognised. */
  key: number;
  name: string;
  task: string;
  source: ModelSource;
  summary: ModelSummary;
  ignoredFiles: string[];
}

export interface Activity extends Progress {
  jobId: number;
}

export type Evaluation =
  | { status: 'idle' }
  | { status: 'running'; progress: Activity }
  | { status: 'done'; metrics: Metrics }
  | { status: 'cancelled' }
  | { status: 'failed'; message: string }
  | { status: 'unavailable' };

export interface Notice {
  title: string;
  message: string;
}

export interface ModelSlice {
  backend: BackendInfo | null;
  backendError: string | null;
  catalog: CatalogEntry[];
  /** The picker's value: the model being opened, else the loaded default model, else null. */
  selectedId: string | null;
  model: LoadedModel | null;
  /** Opening a model. */
  loading: (Activity & { target: string }) | null;
  evaluation: Evaluation;
  notice: Notice | null;

  /** Starts the worker and opens `initialId` (default: vit-fashion) on the `backend` asked for. */
  start(initialId?: string | null, backend?: BackendName | null): Promise<void>;
  selectModel(id: string): Promise<void>;
  openFiles(files: readonly File[]): Promise<void>;
  evaluate(): Promise<void>;
  cancelEvaluation(): void;
  cancelLoading(): void;
  dismissNotice(): void;
}

export const DEFAULT_MODEL_ID = 'vit-fashion';
export const FILES_SOURCE_ID = 'your-files';

const TASKS: Record<ModelSummary['kind'], string> = { vit: 'image classification', gpt2: 'text generation' };

export function parseCatalog(json: unknown): CatalogEntry[] {
  if (!Array.isArray(json)) throw new Error('models/index.json must be a JSON array of {id, name, task}');
  return json.map((e, i) => {
    const { id, name, task } = (e ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || !id) throw new Error(`models/index.json: entry ${i} has no "id"`);
    return { id, name: typeof name === 'string' && name ? name : id, task: typeof task === 'string' ? task : '' };
  });
}

export async function fetchCatalog(): Promise<CatalogEntry[]> {
  const url = `${import.meta.env.BASE_URL}models/index.json`;
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  return parseCatalog(await res.json());
}

export interface ModelSliceDeps {
  engine: () => EngineClient;
  loadCatalog: () => Promise<CatalogEntry[]>;
}

export function modelSlice(deps: ModelSliceDeps): StateCreator<WorkbenchState, [], [], ModelSlice> {
  let loadJob: Job<OpenResult> | null = null;
  let evalJob: Job<Metrics> | null = null;
  let evalCancelledByUser = false;
  let modelKey = 0;
  let started = false;

  return (set, get) => {
    /** Opens a model; the loaded one stays until the new one has opened. */
    async function open(
      target: string,
      pickerId: string | null,
      run: (onProgress: (p: Progress) => void) => Job<OpenResult>,
      describe: (r: OpenResult) => Omit<LoadedModel, 'key' | 'summary' | 'ignoredFiles'>,
    ) {
      loadJob?.cancel();
      const job = run((p) => {
        if (loadJob === job) set({ loading: { ...p, jobId: job.id, target } });
      });
      loadJob = job;
      set({
        loading: { label: `Opening ${target}`, fraction: null, jobId: job.id, target },
        notice: null,
        selectedId: pickerId ?? get().selectedId,
      });
      try {
        const r = await job.result;
        if (loadJob !== job) return;
        loadJob = null;
        // The worker has stopped any measurement of the previous model.
        evalJob = null;
        const model: LoadedModel = {
          key: ++modelKey,
          summary: r.summary,
          ignoredFiles: r.ignoredFiles,
          ...describe(r),
        };
        set({
          model,
          loading: null,
          selectedId: model.source.kind === 'default' ? model.source.id : FILES_SOURCE_ID,
          evaluation: r.summary.evalSet ? { status: 'idle' } : { status: 'unavailable' },
        });
        if (r.summary.evalSet) void get().evaluate();
        // The configuration names the model it was made on, and is measured on the new one.
        if (model.source.kind === 'default' && model.source.id !== get().config.model)
          get().setConfig({ model: model.source.id });
        get().prune();
      } catch (e) {
        if (loadJob !== job) return;
        loadJob = null;
        const m = get().model;
        set({
          loading: null,
          selectedId: !m ? null : m.source.kind === 'default' ? m.source.id : FILES_SOURCE_ID,
          notice: isAbortError(e) ? null : { title: `Could not open ${target}`, message: errorMessage(e) },
        });
      }
    }

    return {
      backend: null,
      backendError: null,
      catalog: [],
      selectedId: null,
      model: null,
      loading: null,
      evaluation: { status: 'idle' },
      notice: null,

      async start(initialId, backend) {
        if (started) return;
        started = true;
        const id = initialId || DEFAULT_MODEL_ID;
        deps
          .engine()
          .init(backend ?? undefined)
          .then(
            (backend) => set({ backend }),
            (e) => set({ backendError: errorMessage(e) }),
          );
        const opening = get().selectModel(id);
        try {
          set({ catalog: await deps.loadCatalog() });
        } catch (e) {
          set({ catalog: [{ id, name: id, task: '' }] });
          if (!get().notice) set({ notice: { title: 'Could not read the list of models', message: errorMessage(e) } });
        }
        await opening;
      },

      selectModel(id) {
        const entry = () => get().catalog.find((c) => c.id === id);
        return open(
          entry()?.name ?? id,
          id,
          (onProgress) => deps.engine().openDefault(id, onProgress),
          (r) => ({
            name: entry()?.name ?? id,
            task: entry()?.task || TASKS[r.summary.kind],
            source: { kind: 'default', id },
          }),
        );
      },

      openFiles(files) {
        return open(
          'your files',
          null,
          (onProgress) => deps.engine().openFiles(files, onProgress),
          (r) => ({ name: 'Your checkpoint', task: TASKS[r.summary.kind], source: { kind: 'files', files: r.files } }),
        );
      },

      async evaluate() {
        const model = get().model;
        if (!model?.summary.evalSet) return;
        evalJob?.cancel();
        const job = deps.engine().evaluate((p) => {
          if (evalJob === job) set({ evaluation: { status: 'running', progress: { ...p, jobId: job.id } } });
        });
        evalJob = job;
        evalCancelledByUser = false;
        set({ evaluation: { status: 'running', progress: { label: 'Measuring', fraction: 0, jobId: job.id } } });
        try {
          const metrics = await job.result;
          if (evalJob !== job) return;
          evalJob = null;
          set({ evaluation: { status: 'done', metrics } });
        } catch (e) {
          if (evalJob !== job) return;
          if (isAbortError(e) && !evalCancelledByUser) return; // a new model replaced this one
          evalJob = null;
          set({
            evaluation: isAbortError(e) ? { status: 'cancelled' } : { status: 'failed', message: errorMessage(e) },
          });
        }
      },

      cancelEvaluation() {
        if (!evalJob) return;
        evalCancelledByUser = true;
        evalJob.cancel();
      },

      cancelLoading() {
        loadJob?.cancel();
      },

      dismissNotice() {
        set({ notice: null });
      },
    };
  };
}
