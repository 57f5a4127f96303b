// The inspection slice with a fake worker: what it asks to inspect (input, and the pruned
// configuration only once it is measured), that stale answers are dropped, errors and Cancel shown.
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineClient, EvalInputs, InspectRequest, InspectResult, WorkbenchReport } from '../workers/client';
import { inputFits, inspectionTarget, inspectSource } from './inspect-slice';
import { defaultShareState, inputCode } from './share';
import { type LoadedModel, recipeOf, shownOf } from './store';
import { disposeTestStores, flush, manualJob, testStore } from './test-store';

afterEach(disposeTestStores);

const images: EvalInputs = {
  kind: 'images',
  images: [{ index: 0, pixels: new Uint8Array(784), label: 'T-shirt/top' }],
  size: 28,
  channels: 1,
  count: 1000,
};
const text: EvalInputs = { kind: 'text', prompt: 'And Abraham ', context: 128 };
const fakeResult = (tag: string) => ({ tag }) as unknown as InspectResult;

function setup(inputs: EvalInputs = images) {
  const requests: InspectRequest[] = [];
  const jobs: ReturnType<typeof manualJob<InspectResult>>[] = [];
  const engine = {
    evalInputs: async () => inputs,
    inspect: (request: InspectRequest) => {
      requests.push(request);
      return jobs[jobs.push(manualJob<InspectResult>()) - 1].job;
    },
  } as unknown as EngineClient;
  const store = testStore({ engine: () => engine });
  store.setState({
    model: { key: 1, summary: { kind: inputs.kind === 'text' ? 'gpt2' : 'vit', calibSet: true } } as LoadedModel,
    config: defaultShareState(inputs.kind === 'text' ? 'gpt-bytes' : 'vit-fashion'),
  });
  return { store, requests, jobs };
}

describe('inputs', () => {
  it('an input that does not fit the model is its default', () => {
    expect(inspectSource({ kind: 'default' }, images)).toEqual({ kind: 'eval-image', index: 0 });
    expect(inspectSource({ kind: 'eval', index: 7 }, images)).toEqual({ kind: 'eval-image', index: 7 });
    expect(inspectSource({ kind: 'text', text: 'x' }, images)).toEqual({ kind: 'eval-image', index: 0 });
    expect(inspectSource({ kind: 'eval', index: 7 }, text)).toEqual({ kind: 'text', text: 'And Abraham ' });
    expect(inspectSource({ kind: 'default' }, { ...images, images: [] })).toBeNull();
    expect(inputFits({ kind: 'text', text: 'x' }, images)).toBe(false);
    expect(inputFits({ kind: 'eval', index: 2 }, images)).toBe(true);
  });

  it('loading the picker for a text model drops an image input from the link', async () => {
    const { store } = setup(text);
    store.getState().setConfig({ input: 'e:3' });
    await store.getState().loadPickerInputs();
    expect(store.getState().pickerInputs).toEqual({ modelKey: 1, inputs: text });
    expect(store.getState().config.input).toBe('');
  });
});

describe('inspect', () => {
  it('compares with the pruned model only once its report is in, and keeps that comparison while the next is measured', async () => {
    const { store, requests, jobs } = setup();
    await store.getState().loadPickerInputs();
    store.getState().setInput({ kind: 'eval', index: 4 });
    store.getState().inspect();
    expect(requests.at(-1)).toEqual({ source: { kind: 'eval-image', index: 4 }, recipe: null });
    jobs[0].resolve(fakeResult('dense'));
    await flush();
    const shown = () => shownOf(store.getState().inspection)?.value;
    expect(shown()?.result).toEqual(fakeResult('dense'));

    // The slider moves: while the prune runs, nothing new is asked.
    const config = { ...store.getState().config, sparsity: 0.5 };
    const recipe = recipeOf(config, 'image-classifier');
    const pruning = { label: 'Pruning', fraction: null };
    store.setState({
      config,
      current: { status: 'running', key: JSON.stringify(recipe), progress: pruning, last: null },
    });
    store.getState().inspect();
    expect(requests).toHaveLength(1);

    // Its report arrives: the comparison is asked for, named from the report.
    const report = { sparsity: 0.5 } as WorkbenchReport;
    store.setState({
      current: {
        status: 'done',
        key: JSON.stringify(recipe),
        value: { report, point: { amount: 0.5, metric: 0.8, flops: 1, params: 1, bytes: 1, bits: 32 } },
      },
    });
    store.getState().inspect();
    expect(requests.at(-1)).toEqual({ source: { kind: 'eval-image', index: 4 }, recipe });
    jobs[1].resolve(fakeResult('pruned'));
    await flush();
    expect(shown()?.comparison?.label).toBe('magnitude · 50% of the block weights pruned');

    // The next configuration is being measured: the measured one stays the comparison.
    const next = { ...config, sparsity: 0.7 };
    store.setState({
      config: next,
      current: {
        status: 'running',
        key: JSON.stringify(recipeOf(next, 'image-classifier')),
        progress: pruning,
        last: null,
      },
    });
    expect(inspectionTarget(store.getState())?.comparison?.recipe).toEqual(recipe);
    store.getState().setInput({ kind: 'eval', index: 5 });
    store.getState().inspect();
    expect(requests.at(-1)).toEqual({ source: { kind: 'eval-image', index: 5 }, recipe });
  });

  it('drops a stale answer, shows a failure beside the last result, and says when the user cancelled', async () => {
    const { store, jobs } = setup();
    await store.getState().loadPickerInputs();
    store.getState().inspect();
    jobs[0].resolve(fakeResult('first'));
    await flush();
    store.getState().setInput({ kind: 'eval', index: 1 });
    store.getState().inspect();
    store.getState().setInput({ kind: 'drawn', pixels: new Uint8Array(784) });
    store.getState().inspect();
    jobs[1].resolve(fakeResult('stale'));
    jobs[2].reject(new Error('eval image 1 does not exist'));
    await flush();
    const i = store.getState().inspection;
    expect(shownOf(i)?.value.result).toEqual(fakeResult('first'));
    expect(i).toMatchObject({ status: 'failed', message: 'eval image 1 does not exist' });
    expect(store.getState().config.input).toBe(inputCode({ kind: 'drawn', pixels: new Uint8Array(784) }));

    store.getState().inspect(); // try again
    store.getState().cancelInspect();
    await flush();
    expect(store.getState().inspection.status).toBe('cancelled');
  });
});
