// The engine's worker: the only door between the page and TensorFlow.js. It holds one model
// session; see ./api.ts for the contract. Helpers live in the modules beside it.
import * as Comlink from 'comlink';
import {
  fetchModelFiles,
  fetchModelFolder,
  ModelError,
  modelFilesOf,
  ModelSession,
  type EvalSetOptions,
  type ModelFiles,
} from '../engine/session';
import { remoteBaseUrl, remoteName } from '../engine/hub';
import {
  Pruner,
  type PruneRecipe,
  type PruneReport,
  type SearchProgress,
  type StructuredReport,
} from '../engine/eval/pruner';
import { COPIED_FILES, exportCheckpoint } from '../engine/export/checkpoint-export';
import type { PartialMetrics } from '../engine/eval/metrics';
import { recoveryNotes } from '../engine/eval/recovery';
import { isCausalLm, sequenceLength } from '../engine/model/config';
import type {
  BackendInfo,
  EngineApi,
  ExportedFile,
  OpenResult,
  ProgressFn,
  WorkbenchRecipe,
  WorkbenchReport,
} from './api';
import { SHIPPED_TEXT } from './api';
import { chooseBackend } from './backend';
import { resetWebGpuBackend } from '../engine/gpu/tfjs-device';
import { granularityEntry } from '../engine/pruning/catalogue';
import { DeviceWatch } from './device-loss';
import { toTransferable } from './errors';
import { downloadProgress, throttle, trackedFetch } from './fetch';
import { deleteCachedModel, listCachedModels, openModelCache, readCachedModel, saveModel } from './cache';
import { weightSources, weightsDigest } from './digest';
import { givenFile, readWeights, toModelFiles, type LazyModelFiles } from './files';
import { JobRegistry } from './jobs';
import { evalBatchSize, flopsPerToken, formatBytes, modelBaseUrl, TAB_MEMORY_BUDGET } from './helpers';
import { openCheckpoint } from '../engine/model/lazy-checkpoint';
import { PAGE_WHOLE_FACTOR, parseSize, wholeModelMemory } from '../engine/stream/memory';
import { StreamedSession } from '../engine/stream/streamed-session';
import { opfsExport } from './opfs';
import { costReport } from '../engine/model/cost';
import { parseDataSet, type DataSet } from '../engine/data/datasets';
import { userDataSet } from '../engine/data/user-data';
import { evalInputs, inspectInput, prunedFor, type DenseViews, type PrunedMasks } from './inspect-job';
import { importanceFor, prunedSharesFor } from './map-job';
import { layerDetail, layerSensitivity } from './layer-detail-job';
import { type HeldRecovery, type OwnData, recoveredExport, recoveryKey, runRecovery } from './recovery-job';
import { abortError } from '../engine/abort';

/** A measured configuration with its masks (SparseGPT's weights too), for an export or the views. */
interface Measured extends PrunedMasks {
  report: WorkbenchReport;
}

/** recipe.json's word on an export made before the page had measured its configuration. */
const UNMEASURED_NOTE =
  'Exported before the page had measured this configuration: "metrics" is null (the command line\'s export measures it).';

let session: ModelSession | null = null;
/** A model too big for the tab whole, read from its files a block at a time (then `session` is null). */
let streamed: StreamedSession | null = null;
/** Files an export copies beside the weights (tokenizer.json, ...), from the model's files. */
let copiedFiles: Record<string, Uint8Array> = {};
/** What a model may take whole before it is read a block at a time. */
let memoryBudget = TAB_MEMORY_BUDGET;
/** The files the session was built from: after a lost GPU device the model is uploaded again from them. */
let sessionFiles: ModelFiles | null = null;
let pruner: Pruner | null = null;
/** The last measured configuration's masks, so an export of it need not prune again. */
let lastPruned: Measured | null = null;
/** The masks the last inspection pruned for itself (its recipe was not the last measured one). */
let lastInspected: PrunedMasks | null = null;
/** The dense model's views of the last inspected input: a new configuration compares with them. */
let lastDenseViews: DenseViews | null = null;
/** The masks the layer detail pruned for itself, reused as the reader steps through a block's linears. */
let lastDetailed: PrunedMasks | null = null;
/** The last recovery of the last measured configuration (finished or cancelled), for an export of it. */
let lastRecovered: HeldRecovery | null = null;
/** Data the user gave the loaded model to be measured on, which a recovery may train on. */
let ownData: OwnData | null = null;
/** Counts prunes: a recovery that a prune started meanwhile made stale is dropped, not kept. */
let pruneTurn = 0;
/** The loaded model's name where it has one a PEFT adapter can point at (a shipped id, a hub id, a URL). */
let modelName: string | null = null;
let backend: Promise<BackendInfo> | null = null;
/** Tokens per evaluation window of text the page asked for (null: the model's sequence); reset by a new model. */
let evalWindow: number | null = null;
const jobs = new JobRegistry();

/** Runs an API call, turning whatever it throws into an Error that crosses comlink intact. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toTransferable(e);
  }
}

/** Validates and uploads the new model, then (only then) retires the old one. */
async function install(files: ModelFiles, signal: AbortSignal, onProgress: ProgressFn): Promise<ModelSession> {
  await api.init();
  signal.throwIfAborted();
  onProgress({ label: 'Checking and uploading the weights', fraction: null });
  const next = ModelSession.open(files);
  // Evaluations of the old model stop before its weights go.
  await stopModelJobs();
  if (signal.aborted) {
    // Cancelled (by a newer open, say) while it waited: the current model stays.
    next.dispose();
    signal.throwIfAborted();
  }
  adopt(next, files);
  evalWindow = null;
  return next;
}

/**
 * Opens the model whole when the page's estimate of it fits the memory budget, else keeps it to be
 * read a block at a time; the headers are read first, so a model too big is never read whole.
 */
async function installFitting(
  files: LazyModelFiles,
  signal: AbortSignal,
  report: ProgressFn,
  /** The same files with their weights in memory already (downloaded), so they are not copied. */
  read?: ModelFiles,
): Promise<void> {
  const lazy = await openCheckpoint(files);
  const whole = wholeModelMemory(lazy, PAGE_WHOLE_FACTOR);
  if (whole.bytes <= memoryBudget) {
    report({ label: 'Reading the weights', fraction: null });
    await install(read ?? (await readWeights(files)), signal, report);
    return;
  }
  await api.init();
  const next = StreamedSession.open(lazy, files, memoryBudget, whole);
  signal.throwIfAborted();
  await installStreamed(next);
}

/** Drops the masks and views kept of the model before. */
function forgetMasks(): void {
  lastPruned = null;
  lastInspected = null;
  lastDenseViews = null;
  lastDetailed = null;
  lastRecovered = null;
}

/** Makes a model read a block at a time the loaded one, retiring the old model. */
async function installStreamed(next: StreamedSession): Promise<void> {
  await stopModelJobs();
  session?.dispose();
  session = null;
  sessionFiles = null;
  pruner = null;
  forgetMasks();
  ownData = null;
  streamed = next;
  evalWindow = null;
}

/** The loaded model held whole; what a call that needs every weight says of a model read a block at a time. */
function wholeSession(what: string): ModelSession {
  if (session) return session;
  if (streamed)
    throw new Error(
      `${what} needs every weight in memory, and this model is read from its files a block at a time (${formatBytes(streamed.whole.bytes)} whole, over this tab's ${formatBytes(streamed.budget)})`,
    );
  throw new Error('no model is loaded');
}

/** Cancels every job that uses the loaded model and waits until all have stopped. */
async function stopModelJobs(): Promise<void> {
  const usesModel = [
    'evaluate',
    'prune',
    'sweep',
    'export',
    'inspect',
    'map-importance',
    'pruned-shares',
    'layer-detail',
    'sensitivity',
    'recover',
  ];
  while (usesModel.reduce((n, k) => n + jobs.running(k), 0) > 0) {
    await Promise.all(usesModel.map((k) => jobs.cancelKind(k)));
  }
}

/** Makes `next` the loaded model, with a fresh pruner (no caches of the old one), retiring the old one. */
function adopt(next: ModelSession, files: ModelFiles, opts: { keepSession?: boolean } = {}): void {
  if (!opts.keepSession) {
    session?.dispose();
    ownData = null;
  }
  session = next;
  streamed = null;
  sessionFiles = files;
  pruner = new Pruner(next);
  forgetMasks();
}

/**
 * After the GPU device was lost: stop what ran on it, start a backend on a new device (or the next
 * backend when none can be had) and upload the model to it again. api.init() answers only once
 * this is done, so calls made meanwhile run on the new model.
 */
function recoverFromDeviceLoss(): Promise<BackendInfo> {
  const recovering = (async () => {
    await stopModelJobs();
    resetWebGpuBackend();
    const info = await chooseBackend('webgpu');
    if (sessionFiles) adopt(ModelSession.open(sessionFiles), sessionFiles);
    return info;
  })();
  backend = recovering.catch((e) => {
    backend = null;
    throw toTransferable(e);
  });
  return recovering;
}

const deviceWatch = new DeviceWatch(recoverFromDeviceLoss);

/**
 * A call on the loaded model where the newest request wins (a slider, an input, a selected layer):
 * the running job of its kind is aborted and awaited before this one starts, never queued behind.
 */
async function newest<T>(
  kind: string,
  jobId: number | undefined,
  fn: (pruner: Pruner, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  await jobs.cancelKind(kind);
  return guarded(() =>
    jobs.run(kind, jobId, async (signal) => {
      await api.init();
      wholeSession(VIEWS[kind] ?? 'this');
      return fn(pruner!, signal);
    }),
  );
}

/** Jobs about the last result (views of it, its recovery), which a new prune makes stale. */
const SUPERSEDED_BY_PRUNE = ['inspect', 'pruned-shares', 'recover'];

/** What each call on the whole model is, in words, for the message when the model is read a block at a time. */
const VIEWS: Record<string, string> = {
  inspect: 'Inspecting an input',
  'map-importance': 'The model map',
  'pruned-shares': 'The model map',
  'layer-detail': 'The layer detail',
  sensitivity: 'The sensitivity allocation',
  recover: 'Recovery after pruning',
};

/** A prune of a model read a block at a time: one pass over its files. */
async function measureStreamed(
  s: StreamedSession,
  recipe: WorkbenchRecipe,
  signal: AbortSignal,
  onProgress: ProgressFn,
): Promise<PruneReport> {
  return s.prune(weightRecipe(recipe), {
    signal,
    batchSize: evaluationBatch(s),
    onProgress: (stage, fraction) => onProgress({ label: stageLabel(stage), fraction }),
  });
}

/** The recipe a model read a block at a time can take: by weights, not by structure. */
function weightRecipe(recipe: WorkbenchRecipe): PruneRecipe {
  if (recipe.kind !== 'unstructured')
    throw new Error('a model read a block at a time is pruned by weights (unstructured or N:M) only');
  return recipe.recipe;
}

const api: EngineApi = {
  init(preferred, threads) {
    backend ??= chooseBackend(preferred, threads).then(
      (info) => {
        deviceWatch.watchActive();
        return info;
      },
      (e) => {
        backend = null;
        throw toTransferable(e);
      },
    );
    return backend;
  },

  openDefault(id, onProgress = () => {}, jobId) {
    return guarded(() =>
      jobs.run('open', jobId, async (signal) => {
        const report = throttle(onProgress);
        const url = modelBaseUrl(id, self.location.href);
        report({ label: `Downloading ${id}`, fraction: null });
        const fetchImpl = trackedFetch(signal, (loaded, total) =>
          report({
            // A steady label (the throttle passes every change of label); the fraction moves.
            label: `Downloading ${id}${total ? ` (${formatBytes(total)})` : ''}`,
            fraction: total ? loaded / total : null,
          }),
        );
        const files = await fetchModelFiles(url, fetchImpl);
        const s = await install(files, signal, report);
        copiedFiles = {};
        modelName = id;
        const used = [
          'config.json',
          'model.safetensors',
          files.tokenizer && 'tokenizer.json',
          files.tokenizerConfig && 'tokenizer_config.json',
          files.evalSet && 'eval.safetensors',
          files.calibSet && 'calib.safetensors',
        ];
        return {
          summary: s.summary(),
          files: used.filter((f): f is string => !!f),
          ignoredFiles: [],
        } satisfies OpenResult;
      }),
    );
  },

  openFiles(dropped, onProgress = () => {}, jobId, expectDigest) {
    return guarded(() =>
      jobs.run('open', jobId, async (signal) => {
        const { modelFiles, used, ignored, copied } = await toModelFiles(dropped.map(givenFile));
        const digest = await weightsDigest(modelFiles.weights);
        if (expectDigest && digest !== expectDigest)
          throw new Error(
            'These files are not the model the link was made with: their weights differ (the safetensors headers do not match). Drop the files of that model, or pick another model.',
          );
        await installFitting(modelFiles, signal, throttle(onProgress));
        copiedFiles = copied;
        modelName = null;
        return { summary: api.summary()!, files: used, ignoredFiles: ignored, digest };
      }),
    );
  },

  openRemote(source, hub, onProgress = () => {}, jobId) {
    return guarded(() =>
      jobs.run('open', jobId, async (signal) => {
        const base = remoteBaseUrl(source, hub);
        const name = remoteName(source);
        const cache = await openModelCache();
        let folder = cache && (await readCachedModel(cache, base).catch(() => null));
        const fromCache = !!folder;
        if (!folder) {
          onProgress({ label: `Downloading ${name}`, fraction: null });
          const fetchImpl = trackedFetch(signal, downloadProgress(name, onProgress, formatBytes));
          try {
            folder = await fetchModelFolder(base, fetchImpl);
          } catch (e) {
            // fetch rejects with a bare TypeError when the server cannot be reached or refuses the page (CORS).
            if (e instanceof TypeError && !signal.aborted)
              throw new ModelError(
                `could not reach ${base}: the server is down, the address is wrong, or it does not allow this page to read it (CORS)`,
              );
            throw e;
          }
        }
        signal.throwIfAborted();
        const files = modelFilesOf(folder);
        const weights = weightSources(files.weights);
        const digest = await weightsDigest(weights);
        await installFitting({ ...files, weights }, signal, throttle(onProgress), files);
        copiedFiles = Object.fromEntries(COPIED_FILES.flatMap((n) => (folder.has(n) ? [[n, folder.get(n)!]] : [])));
        modelName = source.kind === 'hub' ? source.id : base;
        if (cache && !fromCache) {
          // A full cache (quota) leaves the model open, only not kept.
          await saveModel(cache, { base, name, source }, folder).catch(() =>
            deleteCachedModel(cache, base).catch(() => {}),
          );
        }
        return {
          summary: api.summary()!,
          files: [...folder.keys()],
          ignoredFiles: [],
          digest,
          fromCache,
        } satisfies OpenResult;
      }),
    );
  },

  async cachedModels() {
    const cache = await openModelCache();
    return cache ? listCachedModels(cache) : [];
  },

  async deleteCachedModel(base) {
    const cache = await openModelCache();
    if (cache) await deleteCachedModel(cache, base);
  },

  evaluate(onProgress = () => {}, jobId) {
    return guarded(() =>
      jobs.run('evaluate', jobId, async (signal) => {
        await api.init();
        const s = session ?? streamed;
        if (!s) throw new Error('no model is loaded');
        const summary = s.summary();
        const set = summary.evalSet;
        const label = !set
          ? 'Measuring'
          : set.kind === 'images'
            ? `Measuring accuracy on ${set.count.toLocaleString('en-US')} images`
            : `Measuring bits per byte on ${formatBytes(set.bytes)} of text`;
        const report = throttle(onProgress);
        report({ label, fraction: 0 });
        const batchSize = evaluationBatch(s);
        if (s instanceof StreamedSession)
          return s.evaluate({
            signal,
            batchSize,
            onProgress: (stage, fraction) => report({ label: `${label}: ${stage}`, fraction }),
          });
        return s.evaluate({ signal, batchSize, onProgress: (fraction) => report({ label, fraction }) });
      }),
    );
  },

  useEvalData(source, onProgress = () => {}, jobId) {
    return guarded(() =>
      jobs.run('eval-data', jobId, async (signal) => {
        const s = session ?? streamed;
        if (!s) throw new Error('no model is loaded');
        const report = throttle(onProgress);
        let set: DataSet;
        if (source.kind === 'shipped-text') {
          report({ label: 'Downloading the shipped text', fraction: null });
          const url = `${modelBaseUrl(SHIPPED_TEXT.model, self.location.href)}eval.safetensors`;
          const res = await fetch(url, { signal });
          if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
          set = parseDataSet(new Uint8Array(await res.arrayBuffer()), 'the shipped text');
        } else {
          report({ label: `Reading ${source.files.length} files`, fraction: null });
          set = userDataSet(source.files, s.config);
        }
        signal.throwIfAborted();
        // Measurements and prunes of the old set stop; its cached calibration (held-out) goes too.
        await stopModelJobs();
        if (s !== (session ?? streamed)) throw new Error('another model was opened meanwhile');
        s.useEvalSet(set, windowOptions());
        if (s instanceof ModelSession) adopt(s, sessionFiles!, { keepSession: true });
        ownData =
          source.kind === 'files'
            ? { set, name: `your ${source.files.length === 1 ? source.files[0].name : `${source.files.length} files`}` }
            : null;
        return s.summary();
      }),
    );
  },

  useWindow(tokens) {
    return guarded(async () => {
      const s = session ?? streamed;
      if (!s) throw new Error('no model is loaded');
      if (tokens !== null && !isCausalLm(s.config)) throw new Error('windows of text apply to language models only');
      const most = sequenceLength(s.config);
      if (tokens !== null && !(Number.isInteger(tokens) && tokens >= 2 && tokens <= most))
        throw new Error(`a window is a whole number of tokens from 2 to the model's ${most}, not ${tokens}`);
      const before = evalWindow;
      evalWindow = tokens;
      try {
        // Checked before anything stops: a text too short for one window changes nothing.
        if (s.evalSet) s.useEvalSet(null, windowOptions());
      } catch (e) {
        evalWindow = before;
        throw e;
      }
      await stopModelJobs();
      if (s !== (session ?? streamed)) throw new Error('another model was opened meanwhile');
      if (s instanceof ModelSession) adopt(s, sessionFiles!, { keepSession: true });
      return s.summary();
    });
  },

  prune(recipe, onProgress = () => {}, jobId) {
    const s = streamed;
    if (s)
      return guarded(async () => {
        await jobs.cancelKind('prune');
        return jobs.run('prune', jobId, (signal) => measureStreamed(s, recipe, signal, throttle(onProgress)));
      });
    // The slider's job first: the views about the last result (inspecting the input on the pruned
    // model takes 0.5–0.8 s on gpt-bytes) would hold the worker's thread, and the page asks for them
    // again once the new result is in.
    pruneTurn++;
    const views = Promise.all(SUPERSEDED_BY_PRUNE.map((k) => jobs.cancelKind(k)));
    return newest('prune', jobId, async (_, signal) => {
      await views;
      // Every estimate goes to the page (one per eval batch); other progress is throttled.
      const estimate = (e: PartialMetrics) =>
        onProgress({ label: stageLabel('evaluating'), fraction: e.seen / e.total, estimate: e });
      const measured = await measure(recipe, signal, throttle(onProgress), estimate);
      lastPruned = measured;
      lastRecovered = null;
      return measured.report;
    });
  },

  sweep(base, amounts, onPoint, onProgress = () => {}, jobId) {
    return guarded(() =>
      jobs.run('sweep', jobId, async (signal) => {
        await api.init();
        const report = throttle(onProgress);
        let i = 0;
        for (const amount of amounts) {
          signal.throwIfAborted();
          const r: WorkbenchRecipe =
            base.kind === 'unstructured'
              ? { kind: 'unstructured', recipe: { ...base.recipe, sparsity: amount } }
              : { kind: 'structured', recipe: { ...base.recipe, amount } };
          const label = `Point ${i + 1} of ${amounts.length}`;
          const pointProgress: ProgressFn = (p) =>
            report({ label: `${label}: ${p.label}`, fraction: (i + (p.fraction ?? 0)) / amounts.length });
          const point = streamed
            ? await measureStreamed(streamed, r, signal, pointProgress)
            : (await measure(r, signal, pointProgress)).report;
          signal.throwIfAborted();
          await onPoint(point, i);
          i++;
        }
        report({ label: 'Sweep done', fraction: 1 });
        return i;
      }),
    );
  },

  exportFiles(recipe, onProgress = () => {}, jobId, recovery) {
    return guarded(() =>
      jobs.run('export', jobId, async (signal) => {
        await api.init();
        if (streamed) {
          if (recovery) wholeSession('Exporting a recovered model');
          return exportStreamed(streamed, recipe, signal, throttle(onProgress));
        }
        const s = session;
        if (!s) throw new Error('no model is loaded');
        if (recipe.kind === 'structured') {
          const g = granularityEntry(recipe.recipe.granularity);
          if (!g.exports)
            throw new Error(
              `${g.label} pruning changes no weights (${g.implements}): there is no checkpoint to export`,
            );
        }
        const key = JSON.stringify(recipe);
        const held = lastRecovered;
        // A recovered configuration exports the weights its run ended with, never the pruned ones in their place.
        if (recovery && (!held || held.key !== recoveryKey(recovery) || JSON.stringify(recovery.recipe) !== key))
          throw new Error(
            'the recovery in this configuration has not run to its end here: press Recover, and export once it has finished (or been cancelled)',
          );
        // Masks, not a measurement: an export asked for while the page still measures this
        // configuration (minutes for a large model on WASM) writes the files now, without the metric.
        const measured = lastPruned && lastPruned.key === key && lastPruned.session === s ? lastPruned : null;
        onProgress({ label: 'Pruning', fraction: null });
        const m = measured ?? (await prunedFor(pruner!, recipe, [lastInspected, lastDetailed], signal));
        signal.throwIfAborted();
        onProgress({ label: 'Writing the checkpoint', fraction: null });
        const plan = m.plan;
        const recovered = recovery && held ? recoveredExport(s.config, held, modelName) : null;
        const files = exportCheckpoint({
          config: s.config,
          weights: s.checkpoint.weights,
          masks: m.result?.masks ?? null,
          replaced: recovered?.replaced ?? m.result?.weights ?? null,
          extraFiles: copiedFiles,
          structure: plan
            ? {
                heads: plan.masks.heads,
                neurons: plan.masks.neurons,
                attention: plan.masks.attention,
                mlp: plan.masks.mlp,
              }
            : undefined,
          provenance: {
            recipe: measured?.report.recipe ?? m.pruned?.recipe ?? recipe.recipe,
            calibration: measured?.report.calibration ?? m.pruned?.calibration ?? null,
            blockSparsity: measured?.report.blockSparsity ?? m.pruned?.blockSparsity,
            report: measured?.report ?? null,
            recovery: recovered?.recovery ?? null,
            notes: [
              ...(measured ? [] : [UNMEASURED_NOTE]),
              // The adapter's files are separate downloads, under PEFT's own names.
              ...(recovered && held
                ? recoveryNotes(held.recovered, 'adapter_config.json with adapter_model.safetensors')
                : []),
            ],
          },
        });
        // The adapter's files are separate downloads beside the checkpoint's: their names are PEFT's own.
        return [...files, ...(recovered?.files ?? [])].map(([name, bytes]): ExportedFile => ({ name, bytes }));
      }),
    );
  },

  inspect(request, onProgress = () => {}, jobId) {
    return newest('inspect', jobId, async (p, signal) => {
      const { result, pruned, dense } = await inspectInput(
        p,
        request,
        [lastPruned, lastInspected],
        lastDenseViews,
        signal,
        throttle(onProgress),
      );
      if (pruned && pruned !== lastPruned) lastInspected = pruned;
      lastDenseViews = dense;
      return result;
    });
  },

  evalInputs(count) {
    return guarded(async () => evalInputs(wholeSession('Inspecting an input'), count));
  },

  mapImportance(calibration, onProgress = () => {}, jobId) {
    return newest('map-importance', jobId, (p, signal) => importanceFor(p, calibration, signal, throttle(onProgress)));
  },

  prunedShares(recipe, onProgress = () => {}, jobId) {
    return newest('pruned-shares', jobId, (p, signal) => {
      onProgress({ label: 'Reading the pruned shares', fraction: null });
      return prunedSharesFor(p, recipe, [lastPruned, lastInspected], signal);
    });
  },

  layerDetail(request, onProgress = () => {}, jobId) {
    return newest('layer-detail', jobId, async (p, signal) => {
      const { detail, pruned } = await layerDetail(
        p,
        request,
        [lastPruned, lastInspected, lastDetailed],
        signal,
        throttle(onProgress),
      );
      if (pruned) lastDetailed = pruned;
      return detail;
    });
  },

  recover(request, onProgress = () => {}, jobId) {
    return newest('recover', jobId, async (p, signal) => {
      const s = session!;
      const turn = pruneTurn;
      const key = JSON.stringify(request.recipe);
      const base =
        lastPruned && lastPruned.key === key && lastPruned.session === s
          ? lastPruned
          : await measure(request.recipe, signal, throttle(onProgress));
      if (base !== lastPruned) {
        lastPruned = base;
        lastRecovered = null;
      }
      // Every loss and metric goes to the page: they are the points of its curves.
      const { recovered, answer } = await runRecovery(p, base, request, ownData, signal, onProgress);
      // A prune started meanwhile stopped this run early: what it kept is not the page's any more.
      if (turn !== pruneTurn || lastPruned !== base) throw abortError();
      lastRecovered = { key: recoveryKey(request), recovered };
      return answer;
    });
  },

  layerSensitivity(request, onProgress = () => {}, jobId) {
    return newest('sensitivity', jobId, (p, signal) => layerSensitivity(p, request, signal, throttle(onProgress)));
  },

  watchDevice(listener) {
    deviceWatch.subscribe(listener);
  },

  debugLoseDevice() {
    return deviceWatch.loseDevice();
  },

  useMemoryBudget(size) {
    return guarded(async () => {
      const bytes = size === null ? TAB_MEMORY_BUDGET : parseSize(size);
      if (bytes === null) throw new Error(`expected a size such as 1.2GB, 800MB or 2GiB, got "${size}"`);
      memoryBudget = bytes;
      return bytes;
    });
  },

  cancel(jobId) {
    jobs.cancel(jobId);
  },

  summary() {
    return (session ?? streamed)?.summary() ?? null;
  },
};

/** Windows of text (or images) per evaluation batch of the session's model, by tokens and FLOPs. */
function evaluationBatch(s: ModelSession | StreamedSession): number {
  return evalBatchSize(s.evalWindow, flopsPerToken(costReport(s.config)));
}

/**
 * Examples in an evaluation's first batch, whose metric is the first estimate a slider step shows:
 * one window of text (a large model's batch takes long), 16 images (about a quarter of
 * vit-fashion's batch, so a quarter of its time; the estimate's ± is then about 12 points).
 */
function firstEstimateBatch(s: ModelSession | StreamedSession): number {
  return isCausalLm(s.config) ? 1 : 16;
}

/** The evaluation windows the page asked for, as the session takes them. */
function windowOptions(): EvalSetOptions {
  return evalWindow === null ? {} : { context: evalWindow };
}

/**
 * Prunes and measures one recipe with the current model's pruner, handing back the masks with the
 * report. The current configuration's (not a sweep point's) become `lastPruned`, which the export and
 * the views reuse. `onEstimate` hears the metric over the eval examples measured so far, after each batch
 * but the last (the report follows it).
 */
async function measure(
  recipe: WorkbenchRecipe,
  signal: AbortSignal,
  onProgress: ProgressFn,
  onEstimate?: (estimate: PartialMetrics) => void,
) {
  const s = session;
  const p = pruner;
  if (!s || !p) throw new Error('no model is loaded');
  const evaluation = {
    batchSize: evaluationBatch(s),
    firstBatchSize: firstEstimateBatch(s),
    onPartial: onEstimate && ((e: PartialMetrics) => e.seen < e.total && onEstimate(e)),
  };
  const opts = {
    signal,
    evaluation,
    onProgress: (stage: string, fraction: number) => onProgress({ label: stageLabel(stage), fraction }),
    // A searched allocation's best split so far goes to the page with each generation.
    onSearch: (search: SearchProgress) =>
      onProgress({
        label: `EvoPress search: generation ${search.generation} of ${search.generations}, KL ${search.fitness.toFixed(4)}`,
        fraction: search.generation / search.generations,
        search,
      }),
  };
  onProgress({ label: 'Pruning', fraction: null });
  const key = JSON.stringify(recipe);
  if (recipe.kind === 'unstructured') {
    const { report, result } = await p.pruneAndMeasure(recipe.recipe, opts);
    return { key, session: s, report: report as PruneReport, result };
  }
  const { report, plan } = await p.pruneAndMeasureStructured(recipe.recipe, opts);
  return { key, session: s, report: report as StructuredReport, plan };
}

/** The export of a model read a block at a time: one pass, written into the browser's file store. */
async function exportStreamed(
  s: StreamedSession,
  recipe: WorkbenchRecipe,
  signal: AbortSignal,
  onProgress: ProgressFn,
): Promise<ExportedFile[]> {
  const pruneRecipe = weightRecipe(recipe);
  const store = await opfsExport();
  // Checked before the pass, with the old export gone: a full store would fail it at the end.
  const needed = s.exportBytes();
  const free = await store.free();
  const full = () =>
    new Error(
      `the export needs about ${formatBytes(needed)} of this browser's storage for the page, and ${formatBytes(free)} is free: free some disk space (a private window's storage is small), or export on the command line (npm run cli -- export --memory-budget …)`,
    );
  if (needed > free) throw full();
  try {
    await s.export(pruneRecipe, {
      sink: store.open,
      provenance: { recipe: pruneRecipe, notes: [] },
      copied: copiedFiles,
      signal,
      batchSize: evaluationBatch(s),
      onProgress: (stage, fraction) => onProgress({ label: `Exporting: ${stage}`, fraction }),
    });
    return (await store.files()).map((blob) => ({ name: blob.name, blob }));
  } catch (e) {
    await store.discard();
    throw (e as Error)?.name === 'QuotaExceededError' ? full() : e;
  }
}

function stageLabel(stage: string): string {
  return stage.charAt(0).toUpperCase() + stage.slice(1);
}

Comlink.expose(api);
