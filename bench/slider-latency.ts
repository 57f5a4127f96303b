// Slider-to-screen latency of the page: the time from an arrow-key press on the sparsity slider to
// the new pruned metric on screen, first as the running estimate ("≈ … estimate on N of M") and
// then as the final value, for each default model, method and TensorFlow.js backend. It drives
// Debian's Chromium through Playwright against the production build (it builds nothing: run
// `npx vite build` first) served by `vite preview` on its own port. Prints a table and writes JSON
// to bench/results/slider-latency-<date>.json.
//
// Timestamps are the page's own: the key event's timeStamp (a capture listener on the slider) and
// performance.now() in a MutationObserver on the "Pruned model" region. The breakdown is the
// report's timeMs (calibration / pruning / measuring in the worker, and how long into measuring the
// first estimate came), which the page shows.
//
//   npm run bench:slider
//   MODELS=vit-fashion BACKENDS=cpu STEPS_CPU=3 npm run bench:slider
// STEPS_<BACKEND>: key presses per method. FINALS_<BACKEND>=all waits for each final value; =last
// waits for the estimate only, and for the final value at the method's last step; =none for
// estimates only (on SwiftShader a full measurement takes minutes: the next press cancels it, as
// it does for a user).
// BASELINE_<BACKEND>=wait|cancel: wait for the baseline metric, or cancel it so it does not compete.
// MINUTES: time budget per model; cells beyond it are reported as skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { chromium, type Browser, type Page } from '@playwright/test';
import { chromiumArgs } from '../playwright.config';

const MODELS = (process.env.MODELS ?? 'vit-fashion,gpt-bytes').split(',');
const BACKENDS = (process.env.BACKENDS ?? 'wasm,webgpu').split(',');
const METHODS = (process.env.METHODS ?? 'magnitude,wanda').split(',');
const PORT = Number(process.env.PORT ?? 4390);
const DIST = process.env.DIST ?? 'dist';
const MINUTES = Number(process.env.MINUTES ?? 9);

const setting = (name: string, backend: string, fallback: string) =>
  process.env[`${name}_${backend.toUpperCase()}`] ?? fallback;
const stepsFor = (backend: string) => Number(setting('STEPS', backend, backend === 'webgpu' ? '2' : '3'));
const finalsFor = (backend: string) => setting('FINALS', backend, backend === 'webgpu' ? 'none' : 'all');
const baselineFor = (backend: string) => setting('BASELINE', backend, backend === 'webgpu' ? 'cancel' : 'wait');

const METRIC_TEXT = /^\d+(\.\d+)?%?$/;

interface Step {
  model: string;
  backend: string;
  method: string;
  step: number;
  sparsity: number;
  /** Key press → first estimate on screen; null when the final value came first. */
  estimateMs: number | null;
  estimateText: string | null;
  /** Key press → final value on screen; null when not waited for. */
  finalMs: number | null;
  finalText: string | null;
  /** The report's own times (worker side), when the final value was waited for. */
  timeMs: { calibration: number; prune: number; firstEstimate: number; evaluate: number } | null;
}

interface Cell {
  model: string;
  backend: string;
  method: string;
  skipped?: string;
  adapter?: string;
}

async function startServer(): Promise<ChildProcess> {
  if (!existsSync(`${DIST}/index.html`))
    throw new Error(`no production build in ${DIST}/: run \`npx vite build\` first`);
  const server = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort', '--outDir', DIST], {
    stdio: 'ignore',
    detached: true,
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://localhost:${PORT}/`)).ok) return server;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stopServer(server);
  throw new Error(`vite preview did not answer on port ${PORT}`);
}

function stopServer(server: ChildProcess): void {
  // npx starts vite as a child: end the whole process group this script started.
  if (server.pid) process.kill(-server.pid, 'SIGTERM');
}

/** Records, in the page, the slider's key presses and every change of the pruned metric's region. */
async function installProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const region = document.querySelector('[aria-label="Pruned model"]')!;
    const slider = document.querySelector('input[type="range"]')!;
    const probe = { pressedAt: 0, marks: [] as { t: number; metric: string; estimate: string | null }[] };
    (window as unknown as { __probe: typeof probe }).__probe = probe;
    slider.addEventListener(
      'keydown',
      (e) => {
        probe.pressedAt = e.timeStamp;
        probe.marks = [];
      },
      { capture: true },
    );
    new MutationObserver(() => {
      const metric = region.querySelector('[data-testid="pruned-metric"]')?.textContent ?? '';
      const estimate = region.querySelector('[data-testid="pruned-metric-estimate"]')?.textContent ?? null;
      probe.marks.push({ t: performance.now(), metric, estimate });
    }).observe(region, { subtree: true, childList: true, characterData: true });
  });
}

/** Waits until the probe has seen the estimate (or, with `final`, a new final value) after the last press. */
async function awaitStep(
  page: Page,
  final: boolean,
  timeoutMs: number,
): Promise<{
  estimateMs: number | null;
  estimateText: string | null;
  finalMs: number | null;
  finalText: string | null;
}> {
  const handle = await page.waitForFunction(
    ({ final, pattern }) => {
      const probe = (
        window as unknown as {
          __probe: { pressedAt: number; marks: { t: number; metric: string; estimate: string | null }[] };
        }
      ).__probe;
      const re = new RegExp(pattern);
      // The new run's estimate: one shown after the old run's (if any) was cleared by the new prune.
      const cleared = probe.marks.findIndex((m) => m.estimate === null);
      const est = cleared < 0 ? undefined : probe.marks.slice(cleared).find((m) => m.estimate !== null);
      // A new final value: a number after the '—' shown while the new value is measured.
      const pending = probe.marks.findIndex((m) => m.metric === '—');
      const done = pending < 0 ? undefined : probe.marks.slice(pending).find((m) => re.test(m.metric));
      if (final ? !done : !est && !done) return null;
      return {
        estimateMs: est && (!done || est.t <= done.t) ? est.t - probe.pressedAt : null,
        estimateText: est?.estimate ?? null,
        finalMs: done ? done.t - probe.pressedAt : null,
        finalText: done?.metric ?? null,
      };
    },
    { final, pattern: METRIC_TEXT.source },
    { timeout: timeoutMs, polling: 100 },
  );
  return (await handle.jsonValue())!;
}

async function reportTimes(page: Page): Promise<Step['timeMs']> {
  const el = page.getByTestId('prune-times');
  const [calibration, prune, firstEstimate, evaluate] = await Promise.all(
    ['data-calibration-ms', 'data-prune-ms', 'data-first-estimate-ms', 'data-evaluate-ms'].map((a) =>
      el.getAttribute(a),
    ),
  );
  return {
    calibration: Number(calibration),
    prune: Number(prune),
    firstEstimate: Number(firstEstimate),
    evaluate: Number(evaluate),
  };
}

async function measureModel(
  browser: Browser,
  model: string,
  backend: string,
  deadline: number,
  steps: Step[],
  cells: Cell[],
): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  try {
    await page.goto(`http://localhost:${PORT}/?model=${model}&backend=${backend}`);
    const baseline = page.getByRole('region', { name: 'Baseline quality' });
    if (baselineFor(backend) === 'wait')
      await baseline.getByRole('button', { name: 'Measure again' }).waitFor({ timeout: deadline - Date.now() });
    else await baseline.getByRole('button', { name: 'Cancel' }).click({ timeout: 120_000 });
    // The backend's name and adapter as the status bar shows them (its buttons left out).
    const adapter = await page.locator('.backend dd').evaluate((dd) =>
      [...dd.childNodes]
        .filter((n) => n.nodeName !== 'BUTTON')
        .map((n) => n.textContent)
        .join('')
        .trim(),
    );
    await installProbe(page);
    const slider = page.getByRole('slider', { name: 'Global sparsity' });
    for (const method of METHODS) {
      if (Date.now() > deadline) {
        cells.push({ model, backend, method, skipped: `over the ${MINUTES}-minute budget` });
        continue;
      }
      await slider.focus();
      await page.keyboard.press('Home'); // 0%: the dense model, nothing to measure
      await page.getByLabel('Method', { exact: true }).selectOption(method);
      await slider.focus();
      cells.push({ model, backend, method, adapter });
      const n = stepsFor(backend);
      for (let i = 1; i <= n && Date.now() < deadline; i++) {
        const finals = finalsFor(backend);
        const final = finals === 'all' || (finals === 'last' && i === n);
        await page.keyboard.press('ArrowRight');
        const seen = await awaitStep(page, final, Math.max(1000, deadline - Date.now()));
        const step: Step = {
          model,
          backend,
          method,
          step: i,
          sparsity: Number(await slider.inputValue()),
          ...seen,
          timeMs: final ? await reportTimes(page) : null,
        };
        steps.push(step);
        console.error(
          `${model} ${backend} ${method} step ${i}: estimate ${step.estimateMs?.toFixed(0) ?? '—'} ms, final ${step.finalMs?.toFixed(0) ?? '—'} ms ${step.finalText ?? ''}`,
        );
      }
    }
  } catch (e) {
    cells.push({ model, backend, method: '*', skipped: (e as Error).message.split('\n')[0] });
  } finally {
    await context.close();
  }
}

const stats = (xs: number[]) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { n: s.length, median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
};

function table(steps: Step[], cells: Cell[]): string {
  const fmt = (st: ReturnType<typeof stats>) =>
    st ? `${st.median.toFixed(0)} (${st.min.toFixed(0)}–${st.max.toFixed(0)}) n=${st.n}` : '—';
  const lines = [
    '| model | backend | method | to estimate, ms: median (min–max) | to final, ms: median (min–max) | worker: calibration / prune / first estimate / evaluate, ms (median) |',
    '|---|---|---|---|---|---|',
  ];
  for (const c of cells) {
    if (c.skipped) {
      lines.push(`| ${c.model} | ${c.backend} | ${c.method} | skipped: ${c.skipped} | | |`);
      continue;
    }
    const mine = steps.filter((s) => s.model === c.model && s.backend === c.backend && s.method === c.method);
    const times = mine.flatMap((s) => (s.timeMs ? [s.timeMs] : []));
    const med = (k: keyof NonNullable<Step['timeMs']>) => stats(times.map((t) => t[k]))?.median.toFixed(0) ?? '—';
    lines.push(
      `| ${c.model} | ${c.backend} | ${c.method} | ${fmt(stats(mine.flatMap((s) => (s.estimateMs === null ? [] : [s.estimateMs]))))} | ${fmt(stats(mine.flatMap((s) => (s.finalMs === null ? [] : [s.finalMs]))))} | ${med('calibration')} / ${med('prune')} / ${med('firstEstimate')} / ${med('evaluate')} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const server = await startServer();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  const steps: Step[] = [];
  const cells: Cell[] = [];
  const loadBefore = loadavg();
  const started = new Date();
  const version = browser.version();
  try {
    for (const model of MODELS) {
      const deadline = Date.now() + MINUTES * 60_000;
      for (const backend of BACKENDS) await measureModel(browser, model, backend, deadline, steps, cells);
    }
  } finally {
    await browser.close();
    stopServer(server);
  }
  const out = table(steps, cells);
  console.log(out);
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/slider-latency-${started.toISOString().slice(0, 10)}.json`;
  const settings = Object.fromEntries(
    BACKENDS.map((b) => [b, { steps: stepsFor(b), finals: finalsFor(b), baseline: baselineFor(b) }]),
  );
  writeFileSync(
    file,
    `${JSON.stringify({ started: started.toISOString(), chromium: version, loadAverage: { before: loadBefore, after: loadavg() }, settings, cells, steps }, null, 2)}\n`,
  );
  console.error(`wrote ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
