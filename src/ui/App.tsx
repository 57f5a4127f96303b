import { useEffect } from 'react';
import { CostPanel } from './components/CostPanel';
import { DropZone } from './components/DropZone';
import { OpenRemote } from './components/OpenRemote';
import { MetricPanel } from './components/MetricPanel';
import { ModelMap } from './components/ModelMap';
import { LayerDetail } from './components/LayerDetail';
import { ModelOverview } from './components/ModelOverview';
import { ModelPicker } from './components/ModelPicker';
import { NoticeBanner } from './components/NoticeBanner';
import { StatusBar } from './components/StatusBar';
import { ControlsPanel } from './components/ControlsPanel';
import { RecoverPanel } from './components/RecoverPanel';
import { LinkNotice, ShareBar } from './components/ShareBar';
import { TradeoffChart } from './components/TradeoffChart';
import { InspectPanel } from './components/InspectPanel';
import { StreamedNotice } from './components/StreamedNotice';
import { encodeShareState, type ShareState } from './share';
import type { BackendName } from '../workers/client';
import { threadsFromQuery } from '../workers/wasm-threads';
import { useWorkbench, workbenchStore } from './store';

/** The model named in the page's URL (?model=gpt-bytes), if any. */
function modelFromUrl(): string | null {
  return new URLSearchParams(window.location.search).get('model');
}

/**
 * ?backend=wasm or ?backend=cpu runs the engine on that TensorFlow.js backend instead of WebGPU;
 * ?threads=N runs WASM on N threads (default: the machine's cores, at most 8).
 */
function backendFromUrl(): BackendName | null {
  const b = new URLSearchParams(window.location.search).get('backend');
  return b === 'cpu' || b === 'wasm' || b === 'webgpu' ? b : null;
}

/** Puts the share link of `config` in the address bar (unless a link's problem is being shown). */
function showLink(config: ShareState): void {
  const url = new URL(window.location.href);
  const hash = encodeShareState(config);
  if (url.hash === hash || workbenchStore.getState().linkMessage) return;
  url.hash = hash;
  window.history.replaceState(null, '', url);
}

export function App() {
  const model = useWorkbench((s) => s.model);
  const opening = useWorkbench((s) => (s.opening.status === 'running' ? s.opening.progress.label : null));

  const detailOpen = useWorkbench((s) => s.config.layer !== null);

  useEffect(() => {
    // The link's hash wins, then ?model=, then what this browser kept.
    const hash = window.location.hash;
    let id = workbenchStore.getState().init(hash);
    const fromQuery = modelFromUrl();
    if (!hash && fromQuery && fromQuery !== id) {
      workbenchStore.getState().setConfig({ model: fromQuery });
      id = fromQuery;
    }
    const query = new URLSearchParams(window.location.search);
    void workbenchStore
      .getState()
      .start(
        id,
        backendFromUrl(),
        query.get('hub'),
        query.get('memory-budget'),
        threadsFromQuery(window.location.search),
      );
    workbenchStore.getState().watchDevice();
    // The address bar always holds the share link of what is shown, written from a store
    // subscription rather than an effect on the config, which would render the whole page again at
    // every slider step. It is written in a microtask: after the change's own work (a slider step
    // sends its prune to the worker first), yet before anything else runs, so a reload reads it.
    showLink(workbenchStore.getState().config);
    let queued = false;
    return workbenchStore.subscribe((s, before) => {
      if (s.config === before.config || queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        showLink(workbenchStore.getState().config);
      });
    });
  }, []);

  // Keep ?model= in step with the loaded default model, so a reload or a shared link opens it.
  const sourceId = model?.source.kind === 'default' ? model.source.id : null;
  useEffect(() => {
    if (!sourceId || modelFromUrl() === sourceId) return;
    const url = new URL(window.location.href);
    url.searchParams.set('model', sourceId);
    window.history.replaceState(null, '', url);
  }, [sourceId]);

  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <h1>Pruning Workbench</h1>
          <p className="tagline">Inspect a transformer, then prune it and measure what changes.</p>
        </div>
        <ModelPicker />
      </header>
      <StatusBar />
      <NoticeBanner />
      <LinkNotice />
      <main className="layout">
        {model ? (
          <>
            <div className="column main-column">
              <ModelOverview model={model} />
              <TradeoffChart summary={model.summary} />
              {model.summary.streamed ? (
                <StreamedNotice streamed={model.summary.streamed} />
              ) : (
                <>
                  <InspectPanel />
                  <ModelMap summary={model.summary} />
                  {detailOpen && <LayerDetail summary={model.summary} />}
                </>
              )}
            </div>
            <div className="column side-column">
              <ControlsPanel summary={model.summary} />
              <RecoverPanel summary={model.summary} />
              <ShareBar />
              <MetricPanel summary={model.summary} />
              <CostPanel summary={model.summary} />
              <DropZone />
              <OpenRemote />
            </div>
          </>
        ) : (
          <>
            <div className="column main-column">
              <section className="card placeholder" aria-label="Model">
                <p>{opening ? `${opening}…` : 'No model is loaded.'}</p>
              </section>
            </div>
            <div className="column side-column">
              <DropZone />
              <OpenRemote />
            </div>
          </>
        )}
      </main>
    </div>
  );
}
