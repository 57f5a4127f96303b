import { backendThreads } from '../backend-format';
import { useWorkbench } from '../store';
import { DeviceStatus } from './DeviceStatus';
import { ProgressBar } from './ProgressBar';

/** Reopens the page on the WASM backend; the configuration travels in the link and the browser's storage. */
function switchToWasm() {
  const url = new URL(window.location.href);
  url.searchParams.set('backend', 'wasm');
  window.location.assign(url);
}

/** What the workbench is doing, the progress of opening a model, and the backend in use. */
export function StatusBar() {
  const opening = useWorkbench((s) => s.opening);
  const model = useWorkbench((s) => s.model);
  const backend = useWorkbench((s) => s.backend);
  const backendError = useWorkbench((s) => s.backendError);
  const cancelLoading = useWorkbench((s) => s.cancelLoading);
  const threads = backend ? backendThreads(backend) : null;

  const measuring = useWorkbench((s) => s.evaluation.status === 'running');
  const loading = opening.status === 'running' ? opening : null;
  const status = loading
    ? loading.progress.label
    : !model
      ? 'Starting…'
      : measuring
        ? `Measuring ${model.name} in the worker…`
        : `Ready: ${model.name}`;
  return (
    <section className="status-bar" aria-label="Status">
      <div className="status-main">
        <p role="status" aria-live="polite" className="status-text">
          {status}
        </p>
        <DeviceStatus />
        {loading && (
          <>
            <ProgressBar label={`Opening ${loading.key}`} fraction={loading.progress.fraction} />
            <button type="button" className="button small" onClick={cancelLoading}>
              Cancel
            </button>
          </>
        )}
      </div>
      <dl className="backend">
        <dt>Backend</dt>
        <dd>
          {backend ? (
            <>
              <strong className={`backend-name backend-${backend.name}`}>{backend.name}</strong>
              {threads && (
                <span className="backend-detail backend-threads" title={threads.title}>
                  {' '}
                  · {threads.text}
                </span>
              )}
              {backend.adapter && <span className="backend-detail"> · {backend.adapter}</span>}
              {backend.fallbackReason && (
                <span className="backend-detail" title={backend.fallbackReason}>
                  {' '}
                  · no WebGPU
                </span>
              )}
              {backend.softwareAdapter && (
                <button
                  type="button"
                  className="button small quiet"
                  title="This WebGPU runs on the CPU (no GPU was found). TensorFlow.js's WASM backend measures tens of times faster here; the configuration is kept."
                  onClick={switchToWasm}
                >
                  Use WASM (faster here)
                </button>
              )}
            </>
          ) : backendError ? (
            <strong className="backend-name backend-error" title={backendError}>
              unavailable
            </strong>
          ) : (
            <span className="backend-detail">starting…</span>
          )}
        </dd>
      </dl>
    </section>
  );
}
