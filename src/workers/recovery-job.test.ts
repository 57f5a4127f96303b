// The worker's recovery job on a tiny GPT-2: the page's request runs on the pruned result with its
// loss and metric streamed as progress, LoRA's answer names the adapted linears and its export adds
// PEFT's two files beside the recovered weights, and the user's own data is asked for only when given.
import { describe, expect, it } from 'vitest';
import { Pruner } from '../engine/eval/pruner';
import { exportCheckpoint } from '../engine/export/checkpoint-export';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../engine/export/peft';
import { verseSession } from '../engine/eval/test-session';
import type { Progress, RecoverRequest } from './api';
import { dataSourceOf, recoveredExport, recoveryKey, runRecovery } from './recovery-job';

const session = verseSession();
const recipe = { method: 'magnitude' as const, sparsity: 0.6, nm: null, seed: 0 };
const request = (over: Partial<RecoverRequest['recovery']> = {}): RecoverRequest => ({
  recipe: { kind: 'unstructured', recipe },
  recovery: {
    mode: 'lora',
    steps: 4,
    learningRate: 3e-3,
    warmupSteps: 0,
    batchSize: 2,
    seed: 1,
    logEvery: 1,
    evalEvery: 2,
    rank: 2,
    alpha: 4,
    data: 'train',
    ...over,
  },
});

describe('the recovery job', () => {
  it('streams loss and metric, names the adapted linears, and exports PEFT’s files beside the weights', async () => {
    const pruner = new Pruner(session);
    const { result } = await pruner.prune(recipe);
    const progress: Progress[] = [];
    const r = request();
    const { recovered, answer } = await runRecovery(pruner, { result }, r, null, new AbortController().signal, (p) =>
      progress.push(p),
    );
    const losses = progress.filter((p) => p.recovery?.kind === 'loss');
    expect(losses.map((p) => p.label)).toEqual([1, 2, 3, 4].map((s) => `Training: step ${s} of 4`));
    expect(losses.map((p) => p.fraction)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(progress.filter((p) => p.recovery?.kind === 'metric').map((p) => p.recovery)).toMatchObject([
      { step: 0 },
      { step: 2 },
      { step: 4 },
    ]);
    expect(answer.report).toMatchObject({ recovery: { mode: 'lora', rank: 2, alpha: 4 }, stepsDone: 4 });
    expect(answer.adapted.length).toBeGreaterThan(0);
    expect(answer.adapted).toEqual([...recovered.adapters!.layers.keys()]);
    // Plain values: the answer crosses to the page as it is.
    expect(() => structuredClone(answer)).not.toThrow();

    const held = { key: recoveryKey(r), recovered };
    const extra = recoveredExport(session.config, held, 'gpt-bytes');
    expect([...extra.files.keys()]).toEqual([PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE]);
    const peft = JSON.parse(new TextDecoder().decode(extra.files.get(PEFT_CONFIG_FILE)));
    expect(peft).toMatchObject({ r: 2, lora_alpha: 4, base_model_name_or_path: 'gpt-bytes' });
    const files = exportCheckpoint({
      config: session.config,
      weights: session.checkpoint.weights,
      masks: result.masks,
      replaced: extra.replaced,
      provenance: { recipe, recovery: extra.recovery },
    });
    const written = JSON.parse(new TextDecoder().decode(files.get('recipe.json')));
    expect(written.recovery).toMatchObject({ recovery: { mode: 'lora' }, stepsDone: 4, aborted: false });
  });

  it('trains on the user’s own data only when they gave some', () => {
    expect(dataSourceOf(request({ data: 'calibration' }), null)).toEqual({ source: 'calibration' });
    expect(() => dataSourceOf(request({ data: 'custom' }), null)).toThrow(/no data of your own/);
    const set = session.evalSet!;
    expect(dataSourceOf(request({ data: 'custom' }), { set, name: 'your notes.txt' })).toEqual({
      source: 'custom',
      set,
      name: 'your notes.txt',
    });
  });
});
