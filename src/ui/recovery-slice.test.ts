// The recovery slice with a fake worker: the request from the form, the streamed loss and metric,
// a finished run in the configuration (and so in the link), Cancel keeping the best weights, a
// failure that loses nothing, a new prune making the run stale, a link's recovery run after its
// prune, and which mode fits the tab's memory at GPT-2 small's size.
import { afterEach, describe, expect, it } from 'vitest';
import type {
  EngineClient,
  ModelSummary,
  ProgressFn,
  RecoverRequest,
  RecoveryReport,
  RecoveryResult,
  WorkbenchRecipe,
  WorkbenchReport,
} from '../workers/client';
import { defaultRecoveryChoice, defaultShareState, encodeShareState } from './share';
import {
  choiceProblem,
  largestFittingBatch,
  type LoadedModel,
  memoryNote,
  patchedChoice,
  recoveryMemory,
  recoveryRequestOf,
  streamingOf,
} from './store';
import { disposeTestStores, flush, manualJob, testStore } from './test-store';

afterEach(disposeTestStores);

const accuracy = (a: number) => ({ kind: 'classifier', accuracy: a, loss: 0, count: 1 }) as const;
const pruneReport = {
  metric: accuracy(0.6),
  flops: 10,
  nonzeroParams: 5,
  bytes: { dense: 40, sparse: 20, nm24: null, stored: 12 },
  recipe: { method: 'magnitude', sparsity: 0.5, quant: null },
} as unknown as WorkbenchReport;
const vit = {
  key: 1,
  summary: { kind: 'vit', family: 'image-classifier', layers: 4, calibSet: true },
} as unknown as LoadedModel;

function recoveryReport(after: number, aborted = false, step = 10): RecoveryReport {
  return {
    before: accuracy(0.6),
    after: accuracy(after),
    lossCurve: [{ step: 10, value: 0.5 }],
    metricCurve: [
      { step: 0, value: 0.6 },
      { step, value: after },
    ],
    stepsDone: aborted ? 7 : 10,
    step: aborted ? 5 : step,
    aborted,
    data: '128 labelled images',
    timeMs: 1,
    recovery: { mode: 'finetune' },
  } as unknown as RecoveryReport;
}

function recoveryStore() {
  const prunes: ReturnType<typeof manualJob<WorkbenchReport>>[] = [];
  const recoveries: ReturnType<typeof manualJob<RecoveryResult>>[] = [];
  const asked: RecoverRequest[] = [];
  const streams: ProgressFn[] = [];
  const exports: [WorkbenchRecipe, RecoverRequest | null | undefined][] = [];
  const engine = {
    prune: () => prunes[prunes.push(manualJob<WorkbenchReport>()) - 1].job,
    recover: (r: RecoverRequest, onProgress: ProgressFn) => {
      asked.push(r);
      streams.push(onProgress);
      return recoveries[recoveries.push(manualJob<RecoveryResult>()) - 1].job;
    },
    exportFiles: (recipe: WorkbenchRecipe, _: ProgressFn, recovery?: RecoverRequest | null) => {
      exports.push([recipe, recovery]);
      return manualJob().job;
    },
  } as unknown as EngineClient;
  const store = testStore({ engine: () => engine });
  store.setState({ model: vit, config: { ...defaultShareState(), sparsity: 0.5 } });
  return { store, prunes, recoveries, asked, streams, exports };
}

/** A store whose configuration is pruned and measured. */
async function prunedStore() {
  const f = recoveryStore();
  f.store.getState().prune();
  f.prunes[0].resolve(pruneReport);
  await flush();
  expect(f.store.getState().current.status).toBe('done');
  return f;
}

describe('the recovery slice', () => {
  it('asks the worker for the form’s settings on the pruned recipe, and streams loss and metric', async () => {
    const { store, asked, streams } = await prunedStore();
    store.getState().setRecoveryDraft({ steps: 10 });
    void store.getState().recover();
    expect(asked[0]).toMatchObject({
      recipe: { kind: 'unstructured', recipe: { sparsity: 0.5 } },
      recovery: {
        mode: 'finetune',
        steps: 10,
        learningRate: 1e-4,
        warmupSteps: 1,
        batchSize: 8,
        seed: 0,
        data: 'calibration',
        logEvery: 1,
        evalEvery: 3,
      },
    });
    streams[0]({ label: 'Training', fraction: 0.1, recovery: { kind: 'loss', step: 1, steps: 10, loss: 2.5 } });
    streams[0]({ label: 'Measured', fraction: 0.3, recovery: { kind: 'metric', step: 3, metric: 0.7 } });
    streams[0]({ label: 'Training', fraction: 0.4, recovery: { kind: 'loss', step: 4, steps: 10, loss: 1.5 } });
    const s = store.getState();
    expect(s.recoveryLive.loss).toEqual([
      { step: 1, value: 2.5 },
      { step: 4, value: 1.5 },
    ]);
    expect(s.recoveryLive.metric).toEqual([{ step: 3, value: 0.7 }]);
    expect(s.recovery).toMatchObject({ status: 'running', progress: { fraction: 0.4 } });
  });

  it('a finished run is the configuration’s recovery (so the link’s) and a point beside the pruned one', async () => {
    const { store, recoveries, exports } = await prunedStore();
    void store.getState().recover();
    recoveries[0].resolve({ report: recoveryReport(0.8), adapted: [] });
    await flush();
    const s = store.getState();
    expect(s.config.recovery).toEqual(defaultRecoveryChoice());
    expect(encodeShareState(s.config)).toMatch(/^#v3\./);
    expect(s.recoveredPoints).toHaveLength(1);
    expect(s.recoveredPoints[0].pruned.metric).toBe(0.6);
    expect(s.recoveredPoints[0].recovered).toEqual({ ...s.recoveredPoints[0].pruned, metric: 0.8 });
    // The pruned result stays as it was.
    expect(s.current).toMatchObject({ status: 'done', value: { report: pruneReport } });
    // The export asks for that recovery's weights.
    void store.getState().exportFiles();
    expect(exports[0][1]).toEqual(recoveryRequestOf(defaultRecoveryChoice(), exports[0][0]));
  });

  it('Cancel keeps the run’s answer: the best weights measured, marked aborted', async () => {
    const { store, recoveries } = await prunedStore();
    void store.getState().recover();
    store.getState().cancelRecovery();
    // The fake rejects on cancel as a worker job whose answer never came; the real worker answers:
    expect(recoveries[0].cancelled()).toBe(true);
    const again = recoveryStore();
    again.store.getState().prune();
    again.prunes[0].resolve(pruneReport);
    await flush();
    void again.store.getState().recover();
    again.recoveries[0].resolve({ report: recoveryReport(0.7, true), adapted: [] });
    await flush();
    const s = again.store.getState();
    expect(s.recovery).toMatchObject({ status: 'done', value: { report: { aborted: true, stepsDone: 7, step: 5 } } });
    expect(s.config.recovery).not.toBeNull();
  });

  it('a failed run keeps the pruned result and the configuration, with the worker’s message', async () => {
    const { store, recoveries } = await prunedStore();
    const before = store.getState().config;
    void store.getState().recover();
    recoveries[0].reject(new Error('this model ships no training split'));
    await flush();
    const s = store.getState();
    expect(s.recovery).toMatchObject({ status: 'failed', message: 'this model ships no training split' });
    expect(s.config).toBe(before);
    expect(s.current.status).toBe('done');
    expect(s.recoveredPoints).toEqual([]);
  });

  it('a new prune makes the run stale, and another configuration has no recovery', async () => {
    const { store, recoveries, streams } = await prunedStore();
    void store.getState().recover();
    recoveries[0].resolve({ report: recoveryReport(0.8), adapted: [] });
    await flush();
    void store.getState().recover({ ...defaultRecoveryChoice(), steps: 20 });
    store.getState().prune();
    expect(recoveries[1].cancelled()).toBe(true);
    expect(store.getState().recovery.status).toBe('idle');
    // A late report of the stale run draws nothing.
    streams[1]({ label: 'Training', fraction: 0.5, recovery: { kind: 'loss', step: 10, steps: 20, loss: 1 } });
    expect(store.getState().recoveryLive.loss).toEqual([]);
    store.getState().setConfig({ sparsity: 0.6 });
    expect(store.getState().config.recovery).toBeNull();
    // Settings that change no weights keep it.
    store.setState({ config: { ...store.getState().config, recovery: defaultRecoveryChoice() } });
    store.getState().setConfig({ axis: 'bytes' });
    expect(store.getState().config.recovery).toEqual(defaultRecoveryChoice());
  });

  it('a link with a recovery prunes, then runs the link’s recovery', async () => {
    const { store, prunes, asked } = recoveryStore();
    const choice = { ...defaultRecoveryChoice('lora', 5), seed: 7 };
    store.getState().init(encodeShareState({ ...defaultShareState(), sparsity: 0.5, recovery: choice }));
    expect(store.getState().recoveryDraft).toEqual(choice);
    store.getState().prune();
    expect(asked).toHaveLength(0);
    prunes[0].resolve(pruneReport);
    await flush();
    expect(asked[0].recovery).toMatchObject({
      mode: 'lora',
      steps: 5,
      seed: 7,
      rank: 8,
      alpha: 16,
      learningRate: 1e-3,
    });
  });

  it('nothing to recover before a pruned result is shown', () => {
    const { store, asked } = recoveryStore();
    void store.getState().recover();
    expect(asked).toHaveLength(0);
  });
});

describe('the form', () => {
  it('another mode takes its learning rate, other steps 10% warm-up, unless given', () => {
    const d = defaultRecoveryChoice();
    expect(d).toMatchObject({ mode: 'finetune', steps: 100, learningRate: 1e-4, warmupSteps: 10, batchSize: 8 });
    expect(patchedChoice(d, { mode: 'lora' }).learningRate).toBe(1e-3);
    expect(patchedChoice(d, { mode: 'lora', learningRate: 5e-4 }).learningRate).toBe(5e-4);
    expect(patchedChoice(d, { steps: 40 }).warmupSteps).toBe(4);
    expect(patchedChoice(d, { steps: 40, warmupSteps: 0 }).warmupSteps).toBe(0);
    expect(streamingOf(100)).toEqual({ logEvery: 2, evalEvery: 25 });
    // Bad values get the link's own message, the field named; the link's ranges are the form's.
    expect(choiceProblem(d)).toBeNull();
    expect(choiceProblem({ ...d, steps: 0 })).toMatch(/"recovery\.steps" must be an integer from 1 to 10000/);
    expect(choiceProblem({ ...d, learningRate: 0 })).toMatch(/recovery\.learningRate/);
    expect(choiceProblem({ ...d, mode: 'lora', rank: 0.5 })).toMatch(/recovery\.rank/);
    expect(streamingOf(3)).toEqual({ logEvery: 1, evalEvery: 1 });
  });
});

describe('memory', () => {
  /** What the memory count reads of a model: its family, parameters, vocabulary, blocks and width. */
  const shapeOf = (family: string, params: number, vocabSize: number | null, layers: number, hidden: number) =>
    ({ family, cost: { params }, vocabSize, layers, hidden }) as unknown as ModelSummary;
  // GPT-2 small's shape: 124 M parameters in 12 blocks of 768, a vocabulary of 50,257, windows of 1,024 tokens.
  const gpt2 = shapeOf('causal-lm', 124.44e6, 50257, 12, 768);
  const budget = 4.5e9;

  it('at GPT-2 small’s size only LoRA fits the tab, on windows shorter than its context, and the page says so', () => {
    for (const mode of ['finetune', 'distill', 'lora'] as const)
      expect(largestFittingBatch(gpt2, mode, 1024, budget, 8), mode).toBe(0);
    // Fine-tuning and distillation hold seven more copies of the weights: no window makes them fit.
    expect(recoveryMemory(gpt2, 'finetune', 1, 16)).toBeGreaterThan(budget);
    expect(recoveryMemory(gpt2, 'distill', 1, 16)).toBeGreaterThan(budget);
    // Measured (bench/real-sizes.ts, row gpt2-lora): LoRA trains there on a batch of 1 × 128 tokens.
    expect(recoveryMemory(gpt2, 'lora', 1, 128)).toBeLessThanOrEqual(budget);
    expect(recoveryMemory(gpt2, 'lora', 1, 256)).toBeGreaterThan(budget);
    const note = memoryNote(gpt2, defaultRecoveryChoice(), budget, 1024);
    expect(note).toMatch(/^Masked fine-tuning at a batch of 8 needs about [\d.]+ GB here, over this tab’s 4\.50 GB\./);
    expect(note).toMatch(
      /LoRA is the mode that fits a tab, on windows of 128 tokens at a batch of 1 \(about [\d.]+ GB\): set Window \(tokens\) to 128\./,
    );
  });

  it('at a window where LoRA fits, the page says LoRA is the mode that fits, at which batch', () => {
    expect(largestFittingBatch(gpt2, 'finetune', 64, budget, 8)).toBe(0);
    const lora = largestFittingBatch(gpt2, 'lora', 64, budget, 8);
    expect(lora).toBeGreaterThan(0);
    expect(recoveryMemory(gpt2, 'lora', lora, 64)).toBeLessThanOrEqual(budget);
    const note = memoryNote(gpt2, defaultRecoveryChoice(), budget, 64);
    expect(note).toMatch(/LoRA is the mode that fits a tab \(a batch of \d: about [\d.]+ GB\)/);
    expect(memoryNote(gpt2, { ...defaultRecoveryChoice('lora'), batchSize: 1 }, budget, 64)).toBeNull();
  });

  it('a model no window saves says that no mode fits', () => {
    const huge = { ...gpt2, cost: { params: 2e9 } } as ModelSummary;
    expect(memoryNote(huge, defaultRecoveryChoice('lora'), budget, 1024)).toMatch(/No mode fits at this size\.$/);
  });

  it('the default models fit in every mode', () => {
    const vitFashion = shapeOf('image-classifier', 205e3, null, 4, 64);
    const gptBytes = shapeOf('causal-lm', 842e3, 256, 4, 128);
    for (const mode of ['finetune', 'distill', 'lora'] as const) {
      expect(recoveryMemory(vitFashion, mode, 8, 17)).toBeLessThan(budget);
      expect(recoveryMemory(gptBytes, mode, 8, 128)).toBeLessThan(budget);
    }
  });
});
