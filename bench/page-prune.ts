// GPT-2 small (the 548 MB GPT-2-small-shaped checkpoint, bench/lib/gpt2-small-shape.ts) opened,
// pruned and measured in the page on the WASM backend, as a user does it: the files chosen in the
// page's file picker; the shipped King James text taken when the page offers it to a text model
// that brought no data (the dense baseline is then measured on it); Wanda picked as the method,
// the slider moved to 50% by keyboard, calibrating on the page's default source (on a checkpoint
// without training data, the held-out text; were it to fail, the held-out text is picked); then
// one more slider step. Times: (a) files handed to the picker → the model's blocks on screen;
// (b) calibration + the first pruned measurement, from the slider (or the source picked) to
// the pruned metric shown (with its first streamed estimate); (c) after calibration, one slider
// step (ArrowRight) → the first streamed estimate shown (the page's "≈ … estimate on k of n
// windows of text", data-testid pruned-metric-estimate), and → the measurement done. Memory: the
// resident set of every Chromium process together, sampled every 100 ms from /proc, its peak over
// the idle page with the default model open (the tab's renderer, where the engine worker runs,
// is given apart). Every step is bounded (STEP_TIMEOUT_S, 15 min by default): a step the page
// cannot finish — an error shown, the tab crashed, over its time — is recorded as what happened
// (the page's message, console errors, the renderer's memory every 5 s, a screenshot in
// test-results/page-prune/) and the run ends there (a failed baseline is recorded and the flow
// goes on). Drives Debian's Chromium through Playwright against the production build (run
// `npx vite build` first) served by `vite preview`. Prints a table and writes
// bench/results/page-prune-<date>.json (a run the same day adds its configuration beside the
// others, replacing one of the same configuration and model).
//
//   npx vite build && npx tsx bench/page-prune.ts
//
// Other configurations, as a user would set them in the page:
//   CALIB_COUNT=16 CALIB_MODE=one-shot   the calibration size typed and mode picked (defaults: the page's)
//   WINDOW=128                           the window of text typed (tokens, for calibration and measuring;
//                                        default: the model's context) right after the model opens
//   SKIP_BASELINE=1                      Cancel pressed on the baseline measurement at once
//   EVAL_TEXT=path.txt                   that text file chosen (Choose a text file…) instead of the shipped
//                                        text, as a user measures on their own text (a short one keeps each
//                                        GPT-2-small measurement to seconds)
//   PRUNE_FIRST=1                        diagnostic: calibrate on "random inputs" and prune before giving
//                                        any evaluation data (times calibration + pruning alone)
//   DIR=public/models/gpt-bytes          another checkpoint folder (the shipped 0.8 M-parameter model: a control;
//                                        data-cache/tinyllama-shape: TinyLlama-1.1B's shape, written once, which
//                                        the page reads a block at a time)
//   EXPORT=1                             (e) Export pressed after the slider step, timed until every file
//                                        is downloaded
//   EXPORT_ONLY=1                        (e) alone: Export at 50% right after opening, no evaluation data
//   SKIP_STEP=1                          no slider step (c): a model read a block at a time makes each
//                                        step a whole pass, (b) again
//   RECOVER=lora                         (f) after the prune, that recovery (lora, finetune or distill) pressed
//                                        in the Recovery panel with RECOVER_STEPS updates (default 3) at a
//                                        batch of RECOVER_BATCH (default 1) on the panel's default data, timed
//                                        until its result shows: the page's time per update and its memory
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Download, type Page } from '@playwright/test';
import { chromiumArgs } from '../playwright.config';
import { writeGpt2SmallShape } from './lib/gpt2-small-shape';
import { writeTinyLlamaShape } from './lib/tinyllama-shape';
import { browserPid, openDefaultPage, startPreview, treeRss } from './lib/page-bench';

const PORT = Number(process.env.PORT ?? 4392);
const DIST = process.env.DIST ?? 'dist';
const DIR = process.env.DIR ?? 'data-cache/gpt2-small-shape';
const STEP_TIMEOUT_MS = Number(process.env.STEP_TIMEOUT_S ?? 900) * 1000;
/** The calibration size typed in the page; unset: the page's default (128 windows). */
const CALIB_COUNT = process.env.CALIB_COUNT ? Number(process.env.CALIB_COUNT) : null;
/** The calibration mode picked in the page; unset: Wanda's default for a language model (sequential). */
const CALIB_MODE = process.env.CALIB_MODE ?? null;
/** The window of text typed in the page (tokens); unset: the model's context. */
const WINDOW = process.env.WINDOW ? Number(process.env.WINDOW) : null;
/** SKIP_BASELINE=1: cancel the dense baseline the page starts on the shipped text, and prune at once. */
const SKIP_BASELINE = process.env.SKIP_BASELINE === '1';
/** EVAL_TEXT=path: the user's own text file chosen for measuring instead of the shipped text. */
const EVAL_TEXT = process.env.EVAL_TEXT ?? null;
/**
 * PRUNE_FIRST=1 (a diagnostic): before giving any evaluation data, calibrate on the page's "random
 * inputs" and prune; times calibration and pruning alone (the measurement then has no text).
 */
const PRUNE_FIRST = process.env.PRUNE_FIRST === '1';
const METHOD = process.env.METHOD ?? 'wanda';
const SPARSITY_STEPS = 10; // ArrowRight presses: 5% each → 50%
/** EXPORT_ONLY=1: right after opening (no evaluation data given), Export: the pass that calibrates, prunes and writes. */
const EXPORT_ONLY = process.env.EXPORT_ONLY === '1';
const EXPORT = process.env.EXPORT === '1' || EXPORT_ONLY;
const SKIP_STEP = process.env.SKIP_STEP === '1';
/** RECOVER=lora|finetune|distill: (f) a recovery after the prune, RECOVER_STEPS updates at a batch of RECOVER_BATCH. */
const RECOVER = process.env.RECOVER ?? null;
const RECOVER_STEPS = Number(process.env.RECOVER_STEPS ?? 3);
const RECOVER_BATCH = Number(process.env.RECOVER_BATCH ?? 1);
const SHOTS = 'test-results/page-prune';
/** The benchmark's own checkpoints, written once; any other folder is taken as it is. */
const WRITERS: Record<string, (dir: string) => number> = {
  'data-cache/gpt2-small-shape': writeGpt2SmallShape,
  'data-cache/tinyllama-shape': (dir) => writeTinyLlamaShape(dir),
};
/**
 * What a user picks of a model folder: config, weights (one file, or the index and its shards),
 * tokenizer; not its data (the flow gives the shipped text).
 */
const MODEL_FILES = readdirSync(DIR).filter(
  (f) =>
    f === 'config.json' ||
    (f.endsWith('.safetensors') && f.startsWith('model')) ||
    f === 'model.safetensors.index.json' ||
    f.startsWith('tokenizer'),
);
const fileBytes =
  WRITERS[DIR]?.(DIR) ??
  MODEL_FILES.filter((f) => f.startsWith('model')).reduce((a, f) => a + statSync(join(DIR, f)).size, 0);
const modelConfig = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8'));
const BLOCKS: number = modelConfig.n_layer ?? modelConfig.num_hidden_layers;

const MB = 2 ** 20;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// ---- Memory: every Chromium process under the browser, from /proc ----

interface Rss {
  total: number;
  /** By Chromium process type (browser, renderer, gpu-process, utility, zygote…). */
  byType: Record<string, number>;
}

const typeCache = new Map<number, string>();
function processType(pid: number): string {
  let t = typeCache.get(pid);
  if (t === undefined) {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    t = /--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser';
    typeCache.set(pid, t);
  }
  return t;
}

function browserRss(rootPid: number): Rss {
  const out: Rss = { total: 0, byType: {} };
  for (const { pid, rss } of treeRss(rootPid)) {
    out.total += rss;
    try {
      const t = processType(pid);
      out.byType[t] = (out.byType[t] ?? 0) + rss;
    } catch {
      // gone
    }
  }
  return out;
}

/** Samples every 100 ms; `peak()` since the last `reset()`, and the overall peak. */
class Sampler {
  private timer: NodeJS.Timeout;
  private phasePeak: Rss = { total: 0, byType: {} };
  overall: Rss = { total: 0, byType: {} };
  last: Rss = { total: 0, byType: {} };
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 100);
  }
  sample(): Rss {
    const r = browserRss(this.pid);
    this.last = r;
    if (r.total > this.phasePeak.total) this.phasePeak = r;
    if (r.total > this.overall.total) this.overall = r;
    return r;
  }
  reset(): void {
    this.phasePeak = this.sample();
  }
  peak(): Rss {
    this.sample();
    return this.phasePeak;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

const inMB = (r: Rss) => ({
  totalMB: round(r.total / MB, 0),
  byTypeMB: Object.fromEntries(Object.entries(r.byType).map(([k, v]) => [k, round(v / MB, 0)])),
});

// ---- What the page shows ----

interface PageState {
  busy: boolean;
  label: string | null;
  estimate: string | null;
  metric: string | null;
  times: { calibrationMs: number; pruneMs: number; evaluateMs: number } | null;
  failed: string | null;
  calibration: string | null;
  baseline: string | null;
  baselineLabel: string | null;
  inspect: string | null;
  alerts: string[];
  status: string | null;
  exportLabel: string | null;
  exportBusy: boolean;
  exportFailed: string | null;
  recovery: {
    label: string | null;
    result: string | null;
    msPerStep: number | null;
    timeMs: number | null;
    memoryNote: string | null;
    failed: string | null;
  };
}

/**
 * One look at the pruned-model section, the baseline panel, alerts and the status bar. Handed to
 * the page as source text: tsx would wrap a named inner function in a helper the page lacks.
 */
const READ_PAGE = `(() => {
  const pruned = document.querySelector('section[aria-label="Pruned model"]');
  const times = pruned?.querySelector('[data-testid="prune-times"]');
  const text = (e) => e?.textContent?.replace(/\\s+/g, ' ').trim() ?? null;
  const notes = [...(pruned?.querySelectorAll('p.note') ?? [])].map((p) => text(p) ?? '');
  return {
    busy: pruned?.getAttribute('aria-busy') === 'true',
    label: text(pruned?.querySelector('.measuring-label')),
    estimate: text(pruned?.querySelector('[data-testid="pruned-metric-estimate"]')),
    metric: text(pruned?.querySelector('[data-testid="pruned-metric"]')),
    times: times
      ? {
          calibrationMs: Number(times.dataset.calibrationMs),
          pruneMs: Number(times.dataset.pruneMs),
          evaluateMs: Number(times.dataset.evaluateMs),
        }
      : null,
    failed: text(pruned?.querySelector('.error-text')),
    calibration: notes.find((n) => n.startsWith('Calibration:')) ?? null,
    baseline: text(document.querySelector('.metric-panel')),
    baselineLabel: text(document.querySelector('.metric-panel .measuring-label')),
    inspect: text(document.querySelector('.inspect-status')),
    alerts: [...document.querySelectorAll('[role="alert"]')].map((a) => text(a) ?? ''),
    status: text(document.querySelector('section[aria-label="Status"]')),
    exportLabel: text(document.querySelector('.share-bar .measuring-label')),
    exportBusy: !!document.querySelector('.share-bar .measuring'),
    exportFailed: text(document.querySelector('.share-bar .error-text')),
    recovery: (() => {
      const r = document.getElementById('recover-title')?.closest('section');
      const times = r?.querySelector('[data-testid="recovery-times"]');
      return {
        label: text(r?.querySelector('.measuring-label')),
        result: text(r?.querySelector('[data-testid="recovery-result"]')),
        msPerStep: times?.dataset.msPerStep ? Number(times.dataset.msPerStep) : null,
        timeMs: times?.dataset.timeMs ? Number(times.dataset.timeMs) : null,
        memoryNote: text(r?.querySelector('[data-testid="recovery-memory"]')),
        failed: text(r?.querySelector('.error-text')),
      };
    })(),
  };
})()`;

const readPage = (page: Page): Promise<PageState> => page.evaluate(READ_PAGE) as Promise<PageState>;

interface Failure {
  step: string;
  what: 'error shown' | 'tab crashed' | 'timed out' | 'script error';
  message: string;
  atSeconds: number;
  memoryMB: ReturnType<typeof inMB>;
  peakMB: ReturnType<typeof inMB>;
  lastLabel: string | null;
  inspect: string | null;
  alerts: string[];
  status: string | null;
  screenshot: string | null;
  /** The step's progress labels and renderer memory until then. */
  timeline?: TimelineEntry[];
}

interface TimelineEntry {
  s: number;
  label?: string;
  inspect?: string;
  rendererMB?: number;
}

class StepFailed extends Error {
  constructor(readonly failure: Failure) {
    super(`${failure.step}: ${failure.what}: ${failure.message}`);
  }
}

// ---- The run ----

interface Step {
  seconds: number;
  peakMB: ReturnType<typeof inMB>;
  /** The progress labels the page showed (the second each first appeared) and the renderer's memory every 5 s. */
  timeline?: TimelineEntry[];
  [k: string]: unknown;
}

async function run(context: BrowserContext, pid: number) {
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const keep = (m: string) => consoleErrors.length < 50 && consoleErrors.push(m.slice(0, 500));
  page.on('console', (m) => {
    if (m.type() === 'error') keep(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => keep(`pageerror: ${String(e)}`));
  page.on('worker', (w) =>
    w.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') keep(`worker console.${m.type()}: ${m.text()}`);
    }),
  );
  page.on('response', (r) => {
    if (r.status() >= 400) keep(`HTTP ${r.status()}: ${r.url()}`);
  });
  let crashed = false;
  page.on('crash', () => {
    crashed = true;
  });
  const sampler = new Sampler(pid);
  const steps: Record<string, Step> = {};
  const notes: Record<string, unknown> = {};
  const failures: Failure[] = [];
  let idle: Rss = { total: 0, byType: {} };

  const fail = async (
    step: string,
    what: Failure['what'],
    message: string,
    t0: number,
    timeline?: TimelineEntry[],
  ): Promise<never> => {
    let s: PageState | null = null;
    let screenshot: string | null = null;
    if (!crashed) {
      try {
        s = await readPage(page);
        mkdirSync(SHOTS, { recursive: true });
        screenshot = join(SHOTS, `${step}.png`);
        await page.screenshot({ path: screenshot, fullPage: true, timeout: 30_000 });
      } catch {
        screenshot = null;
      }
    }
    throw new StepFailed({
      step,
      what,
      message,
      atSeconds: round((performance.now() - t0) / 1000),
      memoryMB: inMB(sampler.sample()),
      peakMB: inMB(sampler.peak()),
      lastLabel: s?.label ?? s?.baselineLabel ?? null,
      inspect: s?.inspect ?? null,
      alerts: s?.alerts ?? [],
      status: s?.status ?? null,
      screenshot,
      timeline,
    });
  };

  /**
   * Polls the page every `everyMs` from t0 until `done(state)` says so, an error shows, the tab
   * crashes or the step's time runs out; notes the progress labels and the first estimate.
   */
  const watch = async (
    step: string,
    t0: number,
    done: (s: PageState, seconds: number) => boolean,
    opts: {
      everyMs?: number;
      failed?: (s: PageState, seconds: number) => string | null;
      /** The progress label to follow (the pruned model's by default). */
      label?: (s: PageState) => string | null;
      timeoutMs?: number;
    } = {},
  ) => {
    const limit = opts.timeoutMs ?? STEP_TIMEOUT_MS;
    const timeline: TimelineEntry[] = [];
    let lastMemory = -Infinity;
    let lastInspect: string | null = null;
    let firstEstimate: { s: number; text: string } | null = null;
    let last: PageState | null = null;
    for (;;) {
      const seconds = (performance.now() - t0) / 1000;
      if (seconds - lastMemory >= 5) {
        lastMemory = seconds;
        timeline.push({ s: round(seconds, 2), rendererMB: round((sampler.last.byType.renderer ?? 0) / MB, 0) });
      }
      if (crashed) await fail(step, 'tab crashed', 'the page crashed (Playwright "crash" event)', t0, timeline);
      if (seconds * 1000 > limit)
        await fail(
          step,
          'timed out',
          `not done after ${limit / 1000} s; last label: ${last && (opts.label ?? ((x) => x.label))(last)}`,
          t0,
          timeline,
        );
      let s: PageState;
      try {
        s = await readPage(page);
      } catch (e) {
        if (crashed) continue;
        await fail(step, 'script error', `reading the page: ${String(e)}`, t0, timeline);
        throw e;
      }
      last = s;
      const label = opts.label ? opts.label(s) : (s.label ?? (s.busy ? '(busy)' : null));
      // A new stage, or the same stage's progress every 10 s.
      const prev = [...timeline].reverse().find((e) => e.label !== undefined);
      const stage = (l: string) => l.split(' · ')[0];
      if (
        label &&
        (!prev?.label || stage(prev.label) !== stage(label) || (seconds - prev.s > 10 && prev.label !== label))
      )
        timeline.push({ s: round(seconds, 2), label });
      if (s.inspect !== lastInspect) {
        lastInspect = s.inspect;
        timeline.push({ s: round(seconds, 2), inspect: s.inspect ?? '(none)' });
      }
      if (s.estimate && !firstEstimate) firstEstimate = { s: round(seconds, 2), text: s.estimate };
      const failed = opts.failed ? opts.failed(s, seconds) : s.failed;
      if (failed) await fail(step, 'error shown', failed, t0, timeline);
      if (done(s, seconds)) return { seconds, state: s, timeline, firstEstimate };
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
    }
  };

  // A step's own run: busy seen first, so that the state the step started from (the last run's
  // result or failure) is not taken for its outcome — or, for a failure, 2 s gone by (the page
  // starts a prune 120 ms after the last change; one that fails at once may never show busy).
  const ownRun = () => {
    let busy = false;
    const seen = (s: PageState) => {
      if (s.busy) busy = true;
      return busy;
    };
    return {
      done: (s: PageState) => seen(s) && !!s.times && !s.busy,
      failed: (s: PageState, sec: number) => (seen(s) || sec > 2 ? s.failed : null),
    };
  };

  /** The method, and the calibration size and mode where asked. */
  const pickMethod = async () => {
    await page.getByLabel('Method', { exact: true }).selectOption(METHOD);
    if (CALIB_MODE) await page.getByLabel('Calibration mode').selectOption(CALIB_MODE);
    if (CALIB_COUNT !== null) await page.getByLabel('Calibration size').fill(String(CALIB_COUNT));
    notes.calibrationSize = await page.getByLabel('Calibration size').inputValue();
    notes.calibrationMode = await page
      .getByLabel('Calibration mode')
      .evaluate((e: HTMLSelectElement) => e.selectedOptions[0]?.textContent ?? e.value)
      .catch(() => null);
    notes.calibrationSourceDefault = await page
      .getByLabel('Calibration source')
      .evaluate((e: HTMLSelectElement) => `${e.value} (${e.selectedOptions[0]?.textContent})`);
  };

  /** (c) One slider step → the first estimate, and → the measurement done. */
  const sliderStep = async () => {
    sampler.reset();
    const slider = page.getByRole('slider', { name: 'Global sparsity' });
    await slider.focus();
    const t0 = performance.now();
    await page.keyboard.press('ArrowRight');
    notes.stepTo = await slider.inputValue();
    const stepRun = ownRun();
    const step = await watch('slider-step', t0, stepRun.done, { everyMs: 50, failed: stepRun.failed });
    steps.sliderStep = {
      seconds: step.seconds,
      firstEstimateSeconds: step.firstEstimate?.s ?? null,
      firstEstimate: step.firstEstimate?.text ?? null,
      peakMB: inMB(sampler.peak()),
      metric: step.state.metric,
      workerTimesMs: step.state.times,
      timeline: step.timeline,
    };
    console.log(
      `(c) slider step: first estimate ${step.firstEstimate ? `${step.firstEstimate.s.toFixed(2)} s` : 'never shown'}, done ${step.seconds.toFixed(1)} s`,
    );
  };

  /** (f) A recovery of the pruned model, as RECOVER says, → its result shown. */
  const recoverPruned = async () => {
    const panel = page.getByRole('region', { name: 'Recovery', exact: true });
    await panel.getByLabel('Recovery mode').selectOption(RECOVER!);
    await panel.getByLabel('Steps', { exact: true }).fill(String(RECOVER_STEPS));
    await panel.getByLabel('Batch size').fill(String(RECOVER_BATCH));
    notes.recoveryData = await panel
      .getByLabel('Training data')
      .evaluate((e: HTMLSelectElement) => `${e.value} (${e.selectedOptions[0]?.textContent})`);
    // The panel's word on memory: null when the run fits the tab's budget.
    notes.recoveryMemoryNote = (await readPage(page)).recovery.memoryNote;
    sampler.reset();
    const t0 = performance.now();
    await panel.getByRole('button', { name: 'Recover' }).click();
    const done = await watch('recover', t0, (s) => !!s.recovery.result, {
      everyMs: 500,
      failed: (s) => s.recovery.failed,
      label: (s) => s.recovery.label,
    });
    const r = done.state.recovery;
    steps.recover = {
      seconds: done.seconds,
      peakMB: inMB(sampler.peak()),
      result: r.result,
      msPerStep: r.msPerStep,
      workerTimeMs: r.timeMs,
      timeline: done.timeline,
    };
    console.log(
      `(f) ${RECOVER} recovery, ${RECOVER_STEPS} updates of ${RECOVER_BATCH}: ${done.seconds.toFixed(1)} s, ` +
        `${r.msPerStep === null ? '?' : (r.msPerStep / 1000).toFixed(2)} s per update — ${r.result}`,
    );
  };

  /** (e) Export → every file downloaded (the page saves them one by one). */
  const exportAll = async () => {
    sampler.reset();
    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    const t0 = performance.now();
    await page.getByRole('button', { name: 'Export pruned checkpoint' }).click();
    const exporting = page.getByRole('region', { name: 'Share and export' });
    const done = await watch('export', t0, (s) => downloads.length > 0 && !s.exportBusy, {
      everyMs: 500,
      failed: (s) => s.exportFailed,
      label: (s) => s.exportLabel,
    });
    // The page hands every file to the browser at once; the last ones' events may trail.
    await page.waitForTimeout(2000);
    const saved = await Promise.all(
      downloads.map(async (d) => ({ name: d.suggestedFilename(), path: await d.path() })),
    );
    steps.export = {
      seconds: done.seconds,
      peakMB: inMB(sampler.peak()),
      files: saved.map((f) => ({ name: f.name, bytes: f.path ? statSync(f.path).size : null })),
      timeline: done.timeline,
    };
    notes.exportNote = (await exporting.textContent())?.replace(/\s+/g, ' ').trim();
    console.log(`(e) export: ${done.seconds.toFixed(1)} s, ${saved.length} files`);
  };

  try {
    // The idle page with the default model, its baseline measured.
    await openDefaultPage(page, PORT);
    await page
      .getByRole('region', { name: 'Baseline quality' })
      .getByText(/Accuracy\s*\d/)
      .waitFor({ timeout: 180_000 })
      .catch(() => {
        notes.idle = 'the default model’s baseline was not shown within 180 s; idle sampled anyway';
      });
    await page.waitForTimeout(2000);
    idle = sampler.sample();
    notes.backend = await page.locator('.backend-name').first().textContent();

    // (a) Open: the files through the picker → the twelve blocks on screen.
    sampler.reset();
    let t0 = performance.now();
    const files = MODEL_FILES.map((f) => resolve(join(DIR, f)));
    await page.getByLabel('Choose files…').setInputFiles(files);
    const alertsBefore = new Set((await readPage(page)).alerts);
    const newAlert = (s: PageState) => s.alerts.find((a) => a.length > 0 && !alertsBefore.has(a)) ?? null;
    await watch('open', t0, (s) => /Your checkpoint/.test(s.status ?? ''), { everyMs: 200, failed: newAlert });
    // The model map's last block, or the card of a model read a block at a time.
    await page
      .getByRole('group', { name: `Block ${BLOCKS}` })
      .or(page.getByRole('region', { name: 'Read a block at a time' }))
      .waitFor({ timeout: 60_000 });
    steps.open = { seconds: (performance.now() - t0) / 1000, peakMB: inMB(sampler.peak()) };
    notes.files = MODEL_FILES;
    notes.streamed = await page
      .getByRole('region', { name: 'Read a block at a time' })
      .textContent({ timeout: 1000 })
      .then((t) => t?.replace(/\s+/g, ' ').trim() ?? null)
      .catch(() => null);
    notes.modelHeading = await page.getByRole('heading', { level: 2 }).first().textContent();
    console.log(`(a) open: ${steps.open.seconds.toFixed(1)} s`);
    if (WINDOW !== null) {
      const field = page.getByLabel('Window (tokens)');
      await field.fill(String(WINDOW));
      await field.press('Enter');
    }
    notes.window = await page.getByLabel('Window (tokens)').inputValue();

    if (PRUNE_FIRST) {
      // Diagnostic: calibration and pruning before any evaluation data is given, on random-token
      // calibration inputs; the page then has no text to measure the pruned model on.
      await pickMethod();
      await page.getByLabel('Calibration source').selectOption('random');
      const slider = page.getByRole('slider', { name: 'Global sparsity' });
      await slider.focus();
      sampler.reset();
      t0 = performance.now();
      for (let i = 0; i < SPARSITY_STEPS; i++) await page.keyboard.press('ArrowRight');
      notes.sparsity = await slider.inputValue();
      const r = ownRun();
      const cp = await watch('calibrate-and-prune', t0, (st, sec) => r.done(st) || !!r.failed(st, sec), {
        everyMs: 200,
        failed: () => null,
      });
      steps.calibrateAndPrune = {
        seconds: cp.seconds,
        peakMB: inMB(sampler.peak()),
        outcome: cp.state.failed ?? cp.state.metric,
        timeline: cp.timeline,
      };
      console.log(
        `calibration + pruning on random tokens: ${cp.seconds.toFixed(1)} s → ${cp.state.failed ?? cp.state.metric}`,
      );
      return { idle, overall: sampler.overall, steps, notes, failures, consoleErrors };
    }

    if (EXPORT_ONLY) {
      await pickMethod();
      const slider = page.getByRole('slider', { name: 'Global sparsity' });
      await slider.fill('0.5');
      notes.sparsity = await slider.inputValue();
      await exportAll();
      return { idle, overall: sampler.overall, steps, notes, failures, consoleErrors };
    }

    // The page offers the shipped text; the dense baseline is measured on it.
    const metric = page.getByRole('region', { name: 'Baseline quality' });
    notes.offer = (await metric.textContent())?.replace(/\s+/g, ' ').trim();
    sampler.reset();
    t0 = performance.now();
    if (EVAL_TEXT) {
      notes.evalText = `${EVAL_TEXT} (${statSync(EVAL_TEXT).size} bytes)`;
      await metric.getByLabel('Choose a text file…').setInputFiles(resolve(EVAL_TEXT));
    } else await metric.getByRole('button', { name: 'Use the shipped text' }).click();
    const evalSet = async () =>
      (await metric
        .locator('.card-note')
        .textContent({ timeout: 5000 })
        .catch(() => null)) ?? null;
    if (SKIP_BASELINE) {
      // A cancel the page has not taken within 3 minutes is recorded, and the flow goes on.
      try {
        await metric.getByRole('button', { name: 'Cancel' }).click({ timeout: 60_000 });
        notes.baselineCancelClickedAt = round((performance.now() - t0) / 1000, 2);
        const c = await watch('cancel-baseline', t0, (s) => /Measurement cancelled/.test(s.baseline ?? ''), {
          everyMs: 250,
          failed: (s) => (/Measuring failed/.test(s.baseline ?? '') ? s.baseline : null),
          label: (s) => s.baselineLabel,
          timeoutMs: 180_000,
        });
        notes.baseline = `cancelled: shown ${c.seconds.toFixed(1)} s after "Use the shipped text" (SKIP_BASELINE=1)`;
      } catch (e) {
        if (!(e instanceof StepFailed)) throw e;
        failures.push(e.failure);
        console.log(`cancelling the baseline FAILED: ${e.failure.what}: ${e.failure.message}`);
        if (crashed) throw e;
      }
      notes.baselineEvalSet = await evalSet();
    }
    // A baseline that fails is recorded and the flow goes on: the pruned model is measured apart.
    else
      try {
        const base = await watch('baseline', t0, (s) => /Bits per byte\s*\d/.test(s.baseline ?? ''), {
          everyMs: 250,
          failed: (s) => (/Measuring failed/.test(s.baseline ?? '') ? s.baseline : newAlert(s)),
          label: (s) => s.baselineLabel,
        });
        steps.baseline = {
          seconds: base.seconds,
          peakMB: inMB(sampler.peak()),
          shown: base.state.baseline,
          evalSet: await evalSet(),
          timeline: base.timeline,
        };
        console.log(
          `baseline on ${EVAL_TEXT ?? 'the shipped text'}: ${base.seconds.toFixed(1)} s — ${base.state.baseline}`,
        );
      } catch (e) {
        if (!(e instanceof StepFailed)) throw e;
        failures.push(e.failure);
        notes.baselineEvalSet = await evalSet();
        console.log(`baseline FAILED: ${e.failure.what}: ${e.failure.message} (at ${e.failure.atSeconds} s)`);
        if (crashed) throw e;
      }

    await pickMethod();
    const source = page.getByLabel('Calibration source');

    // The slider to 50% by keyboard, on the page's default calibration source (the training data).
    const slider = page.getByRole('slider', { name: 'Global sparsity' });
    await slider.focus();
    const tSlider = performance.now();
    for (let i = 0; i < SPARSITY_STEPS; i++) await page.keyboard.press('ArrowRight');
    notes.sparsity = await slider.inputValue();
    const onTrain = await watch(
      'prune-on-default-source',
      tSlider,
      (s, sec) => !!s.failed || !!s.times || (sec > 60 && s.busy),
      { failed: () => null },
    );
    if (onTrain.state.failed) {
      // Expected: a user's checkpoint brings no calib.safetensors. The held-out text is what there is.
      notes.defaultSourceOutcome = `${onTrain.state.failed} (after ${onTrain.seconds.toFixed(1)} s)`;
      console.log(`default calibration source: ${notes.defaultSourceOutcome}`);
    } else {
      notes.defaultSourceOutcome = 'the prune ran on the default source';
    }

    // (b) Calibration + the first pruned measurement.
    sampler.reset();
    t0 = tSlider;
    if (onTrain.state.failed) {
      t0 = performance.now();
      await source.selectOption('held-out');
    }
    // On the default source the run began with the slider (it may be done already); else with the pick.
    const firstRun = onTrain.state.failed
      ? ownRun()
      : { done: (st: PageState) => !!st.times && !st.busy, failed: (st: PageState) => st.failed };
    const first = await watch('calibrate-and-measure', t0, firstRun.done, { everyMs: 200, failed: firstRun.failed });
    steps.calibrateAndMeasure = {
      seconds: first.seconds,
      peakMB: inMB(sampler.peak()),
      firstEstimate: first.firstEstimate,
      metric: first.state.metric,
      workerTimesMs: first.state.times,
      calibration: first.state.calibration,
      timeline: first.timeline,
    };
    console.log(
      `(b) calibration + first measurement: ${first.seconds.toFixed(1)} s (${first.state.calibration}; worker: ${JSON.stringify(first.state.times)})`,
    );

    // (c) One slider step → the first estimate, and → the measurement done.
    if (!SKIP_STEP) await sliderStep();
    if (EXPORT) await exportAll();
    if (RECOVER) await recoverPruned();
    notes.inspectPanel = (
      await page
        .locator('.inspect-status')
        .first()
        .textContent({ timeout: 5000 })
        .catch(() => null)
    )
      ?.replace(/\s+/g, ' ')
      .trim();
  } catch (e) {
    const failure: Failure =
      e instanceof StepFailed
        ? e.failure
        : {
            step: 'script',
            what: 'script error',
            message: String(e),
            atSeconds: 0,
            memoryMB: inMB(sampler.sample()),
            peakMB: inMB(sampler.peak()),
            lastLabel: null,
            inspect: null,
            alerts: [],
            status: null,
            screenshot: null,
          };
    if (!failures.includes(failure)) failures.push(failure);
    console.log(`FAILED at ${failure.step}: ${failure.what}: ${failure.message}`);
  } finally {
    sampler.stop();
    await page.close().catch(() => {});
  }
  return { idle, overall: sampler.overall, steps, notes, failures, consoleErrors };
}

// ---- Main ----

const head = await new Promise<string>((res) => {
  const git = spawn('git', ['rev-parse', '--short', 'HEAD']);
  let out = '';
  git.stdout.on('data', (d) => (out += d));
  git.on('close', () => res(out.trim()));
});
const server = await startPreview(PORT, DIST);
let context: BrowserContext | null = null;
const profile = mkdtempSync(join(tmpdir(), 'page-prune-profile-'));
let result: Awaited<ReturnType<typeof run>>;
const load0 = loadavg();
const started = performance.now();
try {
  // A profile on disk: an ephemeral context's storage quota is too small for a large export.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: chromiumArgs,
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
  });
  const pid = browserPid();
  result = await run(context, pid);
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  if (server.pid) process.kill(-server.pid);
}

const { idle, overall, steps, notes, failures, consoleErrors } = result;
const configuration = {
  method: METHOD,
  sparsity: notes.stepTo ? `${notes.sparsity} then one step to ${notes.stepTo}` : notes.sparsity,
  calibrationSource: PRUNE_FIRST
    ? 'random inputs (no evaluation data given yet)'
    : EXPORT_ONLY
      ? `${notes.calibrationSourceDefault}: the page's default on a checkpoint without data`
      : notes.defaultSourceOutcome === 'the prune ran on the default source'
        ? `${notes.calibrationSourceDefault}: the page's default on a checkpoint without training data`
        : 'held-out (the shipped text; picked after the default failed)',
  window: notes.window,
  calibrationSize: notes.calibrationSize,
  calibrationMode: notes.calibrationMode,
};
const key = `${DIR}|${METHOD}|${notes.calibrationMode}|${notes.calibrationSize}|window ${notes.window}${EVAL_TEXT ? `|eval ${EVAL_TEXT}` : ''}${SKIP_BASELINE ? '|baseline cancelled' : ''}${PRUNE_FIRST ? '|prune first, random calibration' : ''}${EXPORT_ONLY ? '|export only' : EXPORT ? '|export' : ''}${RECOVER ? `|recover ${RECOVER} ${RECOVER_STEPS}×${RECOVER_BATCH}` : ''}`;
const entry = {
  date: new Date().toISOString(),
  key,
  loadavg: { start: load0, end: loadavg() },
  wallSeconds: round((performance.now() - started) / 1000, 0),
  build: {
    dist: DIST,
    builtAt: existsSync(join(DIST, 'index.html')) ? statSync(join(DIST, 'index.html')).mtime.toISOString() : null,
    head,
  },
  backend: notes.backend ?? 'wasm',
  model: DIR,
  fileMB: fileBytes / 1e6,
  flow: EXPORT_ONLY
    ? [
        'open /?backend=wasm (default model, baseline measured), idle RSS sampled',
        `Choose files… ← ${MODEL_FILES.join(', ')}`,
        `Method: ${METHOD}${CALIB_MODE ? `, Calibration mode: ${CALIB_MODE}` : ''}${CALIB_COUNT !== null ? `, Calibration size: ${CALIB_COUNT}` : ''}; Global sparsity 50%; no evaluation data given`,
        'Export pruned checkpoint → (e) every file downloaded (calibrated on the default source, unmeasured)',
      ]
    : PRUNE_FIRST
      ? [
          'open /?backend=wasm (default model, baseline measured), idle RSS sampled',
          `Choose files… ← ${MODEL_FILES.join(', ')}`,
          `Method: ${METHOD}${CALIB_MODE ? `, Calibration mode: ${CALIB_MODE}` : ''}${CALIB_COUNT !== null ? `, Calibration size: ${CALIB_COUNT}` : ''}, Calibration source: random inputs`,
          `Global sparsity slider: ${SPARSITY_STEPS} × ArrowRight → calibration and pruning, until the page shows the outcome`,
        ]
      : [
          'open /?backend=wasm (default model, baseline measured), idle RSS sampled',
          `Choose files… ← ${MODEL_FILES.join(', ')}`,
          `Baseline quality: ${EVAL_TEXT ? `"Choose a text file…" ← ${notes.evalText}` : '"Use the shipped text"'} (the dense model measured on it${SKIP_BASELINE ? '; that measurement cancelled at once' : ''})`,
          `Method: ${METHOD}${CALIB_MODE ? `, Calibration mode: ${CALIB_MODE}` : ''}${CALIB_COUNT !== null ? `, Calibration size: ${CALIB_COUNT}` : ''}`,
          `Global sparsity slider: ${SPARSITY_STEPS} × ArrowRight (on the default calibration source)`,
          `Window (tokens): ${notes.window}${WINDOW !== null ? ' (typed after opening)' : ' (the default)'}`,
          notes.defaultSourceOutcome === 'the prune ran on the default source'
            ? '(b) calibration + first pruned measurement on the default source, from the first slider step'
            : 'Calibration source: held-out data → (b) calibration + first pruned measurement',
          ...(SKIP_STEP
            ? []
            : ['one more ArrowRight → (c) first streamed estimate (data-testid pruned-metric-estimate), then done']),
          ...(EXPORT ? ['Export pruned checkpoint → (e) every file downloaded'] : []),
          ...(RECOVER
            ? [
                `Recovery: mode ${RECOVER}, Steps ${RECOVER_STEPS}, Batch size ${RECOVER_BATCH}, Recover → (f) the result shown`,
              ]
            : []),
        ],
  configuration,
  notes,
  idleMB: inMB(idle),
  peakMB: inMB(overall),
  peakOverIdleMB: round((overall.total - idle.total) / MB, 0),
  rendererPeakOverIdleMB: round(((overall.byType.renderer ?? 0) - (idle.byType.renderer ?? 0)) / MB, 0),
  steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, { ...v, seconds: round(v.seconds, 2) }])),
  failures,
  consoleErrors,
};

/** A step's time, or how it failed, or — where the run ended before it. */
const cell = (name: string, failedAs: string, shown: (st: Step) => string) => {
  const f = failures.find((x) => x.step === failedAs);
  return steps[name] ? shown(steps[name]) : f ? `FAILED after ${f.atSeconds} s (${f.what})` : '—';
};
const seconds = (d: number) => (st: Step) => `${st.seconds.toFixed(d)} s`;
const rows: [string, string][] = [
  ['(a) open → model on screen', cell('open', 'open', seconds(1))],
  [`    baseline on ${EVAL_TEXT ? 'the eval text' : 'the shipped text'}`, cell('baseline', 'baseline', seconds(1))],
  ['(b) calibration + first pruned measurement', cell('calibrateAndMeasure', 'calibrate-and-measure', seconds(1))],
  [
    '(c) slider step → first estimate',
    cell('sliderStep', 'slider-step', (st) =>
      st.firstEstimateSeconds !== null ? `${(st.firstEstimateSeconds as number).toFixed(2)} s` : 'never shown',
    ),
  ],
  ['    slider step → measurement done', cell('sliderStep', 'slider-step', seconds(1))],
  ...(PRUNE_FIRST
    ? [
        [
          '    calibration + pruning alone (random tokens)',
          cell('calibrateAndPrune', 'calibrate-and-prune', seconds(1)),
        ] as [string, string],
      ]
    : []),
  ...(EXPORT ? [['(e) export → every file downloaded', cell('export', 'export', seconds(1))] as [string, string]] : []),
  ...(RECOVER
    ? ([
        ['(f) recovery → result shown', cell('recover', 'recover', seconds(1))],
        [
          "    per update (the worker's count)",
          cell('recover', 'recover', (st) =>
            typeof st.msPerStep === 'number' ? `${(st.msPerStep / 1000).toFixed(2)} s` : '—',
          ),
        ],
        ['    peak RSS during it', cell('recover', 'recover', (st) => `${st.peakMB.totalMB} MB`)],
      ] as [string, string][])
    : []),
  ['(d) peak RSS, all Chromium processes', `${entry.peakMB.totalMB} MB`],
  ['    over the idle page (default model)', `${entry.peakOverIdleMB} MB (idle ${entry.idleMB.totalMB} MB)`],
  ['    renderer (tab + worker) over idle', `${entry.rendererPeakOverIdleMB} MB`],
];
console.log(`\nPage (WASM), ${DIR} (${(fileBytes / 1e6).toFixed(0)} MB), ${key}:`);
for (const [k, v] of rows) console.log(`  ${k.padEnd(44)} ${v}`);
for (const f of failures) console.log(`  FAILED at ${f.step} (${f.atSeconds} s in): ${f.what}: ${f.message}`);
console.log(
  `  loadavg ${entry.loadavg.start.map((x) => x.toFixed(2)).join(' ')} → ${entry.loadavg.end.map((x) => x.toFixed(2)).join(' ')}`,
);

mkdirSync('bench/results', { recursive: true });
const out = join('bench/results', `page-prune-${entry.date.slice(0, 10)}.json`);
const before: { runs?: { key: string }[] } = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
const runs = [...(before.runs ?? []).filter((r) => r.key !== key), entry];
writeFileSync(
  out,
  `${JSON.stringify({ requirement: 'In the page (WASM, headless Chromium): GPT-2 small opens, prunes and is measured; after calibration a slider step shows its first estimate within 2 s. Report the tab’s peak memory.', runs }, null, 2)}\n`,
);
console.log(`written ${out}`);
