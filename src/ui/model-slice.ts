// The store's model slice: the catalog, the loaded model, its baseline metric, opening progress and
// notices, with the actions that change them. Every engine call goes through the worker client,
// opening a model and measuring it each in its job slot (./jobs.ts).
import type { StateCreator } from 'zustand/vanilla';
import {
  errorMessage,
  type BackendInfo,
  type BackendName,
  type EngineClient,
  type Job,
  type Metrics,
  type ModelSummary,
  type OpenResult,
  type ProgressFn,
} from '../workers/client';
import { IDLE, type JobState, type Jobs } from './jobs';
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
  /** Opening a model; the key is what is opened, in words ("vit-fashion", "your files"). */
  opening: JobState<OpenResult>;
  /** The loaded model measured on its eval set (idle without one: see ModelSummary.evalSet); the key is the model's. */
  evaluation: JobState<Metrics>;
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

const TASKS: Record<ModelSummary['family'], string> = {
  'image-classifier': 'image classification',
  'causal-lm': 'text generation',
};

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
  jobs: Jobs;
}

export function modelSlice(deps: ModelSliceDeps): StateCreator<WorkbenchState, [], [], ModelSlice> {
  let modelKey = 0;
  let started = false;

  return (set, get) => {
    const opening = deps.jobs.slot(
      () => get().opening,
      (opening) => set({ opening }),
    );
    const measuring = deps.jobs.slot(
      () => get().evaluation,
      (evaluation) => set({ evaluation }),
    );
    const pickerIdOf = (m: LoadedModel | null) =>
      !m ? null : m.source.kind === 'default' ? m.source.id : FILES_SOURCE_ID;

    /** Opens a model; the loaded one stays until the new one has opened. */
    async function open(
      target: string,
      pickerId: string | null,
      run: (onProgress: ProgressFn) => Job<OpenResult>,
      describe: (r: OpenResult) => Omit<LoadedModel, 'key' | 'summary' | 'ignoredFiles'>,
    ) {
      set({ notice: null, selectedId: pickerId ?? get().selectedId });
      const outcome = await opening.start(target, run, { label: `Opening ${target}`, fraction: null });
      if (outcome.status === 'dropped') return;
      if (outcome.status !== 'done') {
        set({
          selectedId: pickerIdOf(get().model),
          notice: outcome.status === 'failed' ? { title: `Could not open ${target}`, message: outcome.message } : null,
        });
        return;
      }
      const r = outcome.value;
      const model: LoadedModel = { key: ++modelKey, summary: r.summary, ignoredFiles: r.ignoredFiles, ...describe(r) };
      // The worker has stopped any measurement of the previous model.
      measuring.reset();
      set({ model, selectedId: pickerIdOf(model) });
      if (r.summary.evalSet) void get().evaluate();
      // The configuration names the model it was made on, and is measured on the new one.
      if (model.source.kind === 'default' && model.source.id !== get().config.model)
        get().setConfig({ model: model.source.id });
      get().prune();
    }

    return {
      backend: null,
      backendError: null,
      catalog: [],
      selectedId: null,
      model: null,
      opening: IDLE,
      evaluation: IDLE,
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
        const opened = get().selectModel(id);
        try {
          set({ catalog: await deps.loadCatalog() });
        } catch (e) {
          set({ catalog: [{ id, name: id, task: '' }] });
          if (!get().notice) set({ notice: { title: 'Could not read the list of models', message: errorMessage(e) } });
        }
        await opened;
      },

      selectModel(id) {
        const entry = () => get().catalog.find((c) => c.id === id);
        return open(
          entry()?.name ?? id,
          id,
          (onProgress) => deps.engine().openDefault(id, onProgress),
          (r) => ({
            name: entry()?.name ?? id,
            task: entry()?.task || TASKS[r.summary.family],
            source: { kind: 'default', id },
          }),
        );
      },

      openFiles(files) {
        return open(
          'your files',
          null,
          (onProgress) => deps.engine().openFiles(files, onProgress),
          (r) => ({
            name: 'Your checkpoint',
            task: TASKS[r.summary.family],
            source: { kind: 'files', files: r.files },
          }),
        );
      },

      async evaluate() {
        const model = get().model;
        if (!model?.summary.evalSet) return;
        await measuring.start(String(model.key), (onProgress) => deps.engine().evaluate(onProgress), {
          label: 'Measuring',
          fraction: 0,
        });
      },

      cancelEvaluation() {
        measuring.cancel();
      },

      cancelLoading() {
        opening.cancel();
      },

      dismissNotice() {
        set({ notice: null });
      },
    };
  };
}
