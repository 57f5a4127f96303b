// The engine's worker: the only door between the page and TensorFlow.js. It holds one model
// session; see ./api.ts for the contract. Helpers live in the modules beside it.
import * as Comlink from 'comlink';
import { fetchModelFiles, ModelSession, type ModelFiles } from '../engine/session';
import type { BackendInfo, DroppedFile, EngineApi, OpenResult, ProgressFn } from './api';
import { chooseBackend } from './backend';
import { toTransferable } from './errors';
import { throttle, trackedFetch } from './fetch';
import { toModelFiles } from './files';
import { JobRegistry, throwIfAborted } from './jobs';
import { evalBatchSize, formatBytes, modelBaseUrl } from './helpers';

let session: ModelSession | null = null;
let backend: Promise<BackendInfo> | null = null;
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
  throwIfAborted(signal);
  onProgress({ label: 'Checking and uploading the weights', fraction: null });
  const next = ModelSession.open(files);
  // Evaluations of the old model stop before its weights go.
  while (jobs.running('evaluate') > 0) await jobs.cancelKind('evaluate');
  if (signal.aborted) {
    // Cancelled (by a newer open, say) while it waited: the current model stays.
    next.dispose();
    throwIfAborted(signal);
  }
  session?.dispose();
  session = next;
  return next;
}

const api: EngineApi = {
  init(preferred) {
    backend ??= chooseBackend(preferred).catch((e) => {
      backend = null;
      throw toTransferable(e);
    });
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
        const used = ['config.json', 'model.safetensors', files.tokenizer && 'tokenizer.json', files.evalSet && 'eval.safetensors', files.calibSet && 'calib.safetensors'];
        return { summary: s.summary(), files: used.filter((f): f is string => !!f), ignoredFiles: [] } satisfies OpenResult;
      }),
    );
  },

  openFiles(dropped: DroppedFile[], onProgress = () => {}, jobId) {
    return guarded(() =>
      jobs.run('open', jobId, async (signal) => {
        const { modelFiles, used, ignored } = toModelFiles(dropped);
        const s = await install(modelFiles, signal, throttle(onProgress));
        return { summary: s.summary(), files: used, ignoredFiles: ignored };
      }),
    );
  },

  evaluate(onProgress = () => {}, jobId) {
    return guarded(() =>
      jobs.run('evaluate', jobId, async (signal) => {
        await api.init();
        const s = session;
        if (!s) throw new Error('no model is loaded');
        const summary = s.summary();
        const set = summary.evalSet;
        const label = !set ? 'Measuring' : set.kind === 'images' ? `Measuring accuracy on ${set.count.toLocaleString('en-US')} images` : `Measuring bits per byte on ${formatBytes(set.bytes)} of text`;
        const report = throttle(onProgress);
        report({ label, fraction: 0 });
        const batchSize = evalBatchSize(summary.sequence);
        return s.evaluate({ signal, batchSize, onProgress: (fraction) => report({ label, fraction }) });
      }),
    );
  },

  cancel(jobId) {
    jobs.cancel(jobId);
  },

  summary() {
    return session?.summary() ?? null;
  },
};

Comlink.expose(api);
