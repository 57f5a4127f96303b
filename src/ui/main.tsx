// TEMPORARY placeholder written by the build/CI helper so that `vite build`
// has an entry point; the UI engineer replaces this file.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <h1>Pruning Workbench</h1>
  </StrictMode>,
);
