// Entry point of the page: the workbench UI. All tensor work happens in the engine worker
// (src/workers/engine.worker.ts), reached through src/workers/client.ts.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
