// The store's model slice: the catalog, the loaded model, its baseline metric, opening progress and
// notices, with the actions that change them. Every engine call goes through the worker client,
// opening a model and measuring it each in its job slot (./jobs.ts).
import type { StateCreator } from 'zustand/vanilla';
import { DEFAULT_HUB, normalizeHub, parseRemote, type RemoteRef, remoteName, SourceError } from '../workers/client';
import {
  errorMessage,
  isAbortError,
  type BackendInfo,
  type BackendName,
  type CachedModel,
  type EngineClient,
  type Job,
  type Metrics,
  type ModelSummary,
  type OpenResult,
  type ProgressFn,
} from '../workers/client';

/** Data a model is measured on when it brought none. */
export type EvalDataSource = Parameters<EngineClient['useEvalData']>[0];
import { IDLE, type JobState, type Jobs } from './jobs';
import type { WorkbenchState } from './store';
import { type LinkSource, modelKeyOf } from './share';

export interface CatalogEntry {
  id: string;
  name: string;
  task: string;
}

export type ModelSource =
  | { kind: 'default'; id: string }
  /** Dropped or chosen files; `digest` is OpenResult.digest. */
  | { kind: 'files'; files: string[]; digest?: string }
  /** Downloaded from the hub (resolved against `hub`) or a folder URL, or reopened from the browser's cache. */
  | { kind: 'remote'; ref: RemoteRef; hub: string; fromCache: boolean };

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
  /** The hub that ids are resolved against (the page's ?hub=, else DEFAULT_HUB). */
  hub: string;
  /** The models downloaded into this browser, newest first. */
  cached: CachedModel[];
  /**
   * The files a link made on dropped files needs, until they (or another model) are opened: files
   * dropped meanwhile must have the link's digest.
   */
  linkFiles: { files: string[]; digest: string } | null;
  /** The memory budget the page URL asked for (?memory-budget=), in bytes; null: the tab's default. */
  memoryBudget: number | null;
  /** Whether the loaded model is measured on data the user gave (files, not the shipped text): a recovery may train on it. */
  ownData: boolean;

  /**
   * Starts the worker and opens the model: the configuration's source (a link's hub or URL model;
   * for one made on files, waits for them), else `initialId` (default: vit-fashion), on the
   * `backend` asked for (on WASM, on `threads` threads: default, the machine's cores); ids resolve
   * against `hub` (default DEFAULT_HUB).
   */
  start(
    initialId?: string | null,
    backend?: BackendName | null,
    hub?: string | null,
    memoryBudget?: string | null,
    threads?: number | null,
  ): Promise<void>;
  selectModel(id: string): Promise<void>;
  openFiles(files: readonly File[]): Promise<void>;
  /**
   * Opens what a person typed, a hub id ("org/name[@revision]") or a folder URL, or a source; a bad
   * one gets a notice and changes nothing. `hub` overrides the page's (a cached model's own).
   */
  openRemote(source: string | RemoteRef, hub?: string): Promise<void>;
  /** Reads the list of cached models again. */
  refreshCached(): Promise<void>;
  deleteCached(base: string): Promise<void>;
  evaluate(): Promise<void>;
  /**
   * Measures the loaded model on data it did not bring (the user's files or the shipped text) from
   * now on, and measures it and the configuration again; resolves with an error message, or null.
   */
  measureOn(source: EvalDataSource): Promise<string | null>;
  /**
   * Hands the configuration's window of text to the worker, then measures the model and the
   * configuration again on it; a window the model refuses gets a notice and the configuration
   * goes back to the window in use.
   */
  applyWindow(): Promise<void>;
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

/** What a share link holds of where the model came from (null: a model the page ships). */
export function linkSourceOf(source: ModelSource): LinkSource | null {
  switch (source.kind) {
    case 'default':
      return null;
    case 'files':
      return source.digest ? { kind: 'files', files: source.files, digest: source.digest } : null;
    case 'remote':
      return source.ref.kind === 'hub'
        ? { kind: 'hub', id: source.ref.id, revision: source.ref.revision }
        : { kind: 'url', url: source.ref.url };
  }
}

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
  /** Counts measurements started and cancelled: a window that arrives after either measures nothing again. */
  let measureTurns = 0;
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
    const refresh = () =>
      Promise.resolve()
        .then(() => deps.engine().cachedModels())
        .then(
          (cached) => set({ cached }),
          () => {},
        );

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
      set({ model, selectedId: pickerIdOf(model), ownData: false });
      // The configuration names the model it was made on, and is measured on the new one.
      const source = linkSourceOf(model.source);
      const key = model.source.kind === 'default' ? model.source.id : source ? modelKeyOf(source) : null;
      const config = get().config;
      if (key !== null && (key !== config.model || JSON.stringify(source) !== JSON.stringify(config.source)))
        get().setConfig({ model: key, source });
      set({ linkFiles: null });
      if (model.source.kind === 'remote' && !model.source.fromCache) void refresh();
      // A link's window of text goes to the worker before anything is measured.
      if (windowPending()) return void get().applyWindow();
      if (r.summary.evalSet) void get().evaluate();
      get().prune();
    }

    /** Whether the configuration's window of text differs from the one the worker measures on. */
    function windowPending(): boolean {
      const s = get().model?.summary;
      return !!s && s.family === 'causal-lm' && s.evalWindow !== (get().config.window ?? s.sequence);
    }

    /** A link made on dropped files: nothing opens until they are dropped (and match). */
    async function waitForFiles(source: Extract<LinkSource, { kind: 'files' }>) {
      set({
        linkFiles: { files: source.files, digest: source.digest },
        selectedId: null,
        notice: {
          title: 'This link was made on a checkpoint opened from files',
          message: `Drop or choose its files (${source.files.join(', ')}) to open it with the link's configuration; the files of another model are refused. Or pick a model above.`,
        },
      });
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
      hub: DEFAULT_HUB,
      cached: [],
      linkFiles: null,
      memoryBudget: null,
      ownData: false,

      async start(initialId, backend, hub, memoryBudget, threads) {
        if (started) return;
        started = true;
        if (memoryBudget)
          // Before any model is opened: it decides whether a model from files is read a block at a time.
          await deps
            .engine()
            .useMemoryBudget(memoryBudget)
            .then((bytes) => set({ memoryBudget: bytes }))
            .catch((e) =>
              set({ notice: { title: 'The memory budget in the page URL was not used', message: errorMessage(e) } }),
            );
        if (hub) {
          try {
            set({ hub: normalizeHub(hub) });
          } catch (e) {
            set({ notice: { title: 'The hub address in the page URL was not used', message: errorMessage(e) } });
          }
        }
        void refresh();
        const id = initialId || DEFAULT_MODEL_ID;
        deps
          .engine()
          .init(backend ?? undefined, threads)
          .then(
            (backend) => set({ backend }),
            (e) => set({ backendError: errorMessage(e) }),
          );
        const source = get().config.source;
        const opened =
          source?.kind === 'files'
            ? waitForFiles(source)
            : source
              ? get().openRemote(source.kind === 'hub' ? { ...source } : { ...source })
              : get().selectModel(id);
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
        const expected = get().linkFiles?.digest;
        return open(
          'your files',
          null,
          (onProgress) => deps.engine().openFiles(files, onProgress, expected),
          (r) => ({
            name: 'Your checkpoint',
            task: TASKS[r.summary.family],
            source: { kind: 'files', files: r.files, ...(r.digest ? { digest: r.digest } : {}) },
          }),
        );
      },

      async openRemote(given, hubOverride) {
        let ref: RemoteRef;
        try {
          ref = typeof given === 'string' ? parseRemote(given) : given;
        } catch (e) {
          if (!(e instanceof SourceError)) throw e;
          set({
            notice: { title: `Could not open ${typeof given === 'string' ? given.trim() : ''}`, message: e.message },
          });
          return;
        }
        const hub = hubOverride ?? get().hub;
        const name = remoteName(ref);
        await open(
          name,
          null,
          (onProgress) => deps.engine().openRemote(ref, hub, onProgress),
          (r) => ({
            name,
            task: TASKS[r.summary.family],
            source: { kind: 'remote', ref, hub, fromCache: !!r.fromCache },
          }),
        );
      },

      refreshCached: refresh,

      async deleteCached(base) {
        try {
          await deps.engine().deleteCachedModel(base);
        } catch (e) {
          set({ notice: { title: 'Could not delete the downloaded model', message: errorMessage(e) } });
        }
        await refresh();
      },

      async evaluate() {
        const model = get().model;
        if (!model?.summary.evalSet) return;
        measureTurns++;
        await measuring.start(String(model.key), (onProgress) => deps.engine().evaluate(onProgress), {
          label: 'Measuring',
          fraction: 0,
        });
      },

      async measureOn(source) {
        const key = get().model?.key;
        try {
          const summary = await deps.engine().useEvalData(source).result;
          const model = get().model;
          if (!model || model.key !== key) return null; // another model was opened meanwhile
          set({ model: { ...model, summary }, ownData: source.kind === 'files' });
          void get().evaluate();
          get().prune();
          return null;
        } catch (e) {
          return isAbortError(e) ? null : errorMessage(e);
        }
      },

      async applyWindow() {
        const model = get().model;
        if (!model || !windowPending()) return;
        const tokens = get().config.window;
        const turn = measureTurns;
        try {
          const summary = await deps.engine().useWindow(tokens);
          const now = get().model;
          if (!now || now.key !== model.key) return;
          set({ model: { ...now, summary } });
          // The baseline of the old windows is not this one's. A measurement started meanwhile
          // (on data given since: the worker took the window first) or cancelled stays as it is.
          if (turn === measureTurns) {
            measuring.reset();
            void get().evaluate();
          }
          get().prune();
        } catch (e) {
          const inUse = get().model?.summary ?? model.summary;
          set({
            notice: { title: `Could not measure on windows of ${tokens} tokens`, message: errorMessage(e) },
            config: { ...get().config, window: inUse.evalWindow === inUse.sequence ? null : inUse.evalWindow },
          });
        }
      },

      cancelEvaluation() {
        measureTurns++;
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
