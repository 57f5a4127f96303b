// The store's inspection slice: the input picker's offer (eval images or a default prompt), and what
// the worker answered about the selected input — attention maps, saliency and predictions of the
// dense model and of the current pruned configuration once it has been measured. The selected input
// itself lives in `config.input` (it is part of the share link).
import type { StateCreator } from 'zustand/vanilla';
import {
  errorMessage,
  isAbortError,
  type EngineClient,
  type EvalInputs,
  type InspectResult,
  type InspectSource,
  type Job,
  type Progress,
  type WorkbenchRecipe,
  type WorkbenchReport,
} from '../workers/client';
import { amountOf, recipeOf } from './config-slice';
import { formatPercent } from './format';
import { inputCode, parseInputCode, type InputChoice } from './share';
import type { WorkbenchState } from './store';

/** Eval images the picker offers. */
export const PICKER_IMAGES = 12;

/** The pruned configuration an inspection compares with. */
export interface Comparison {
  recipe: WorkbenchRecipe;
  /** In words, for the column's heading. */
  label: string;
}

export interface Inspection {
  /** The model the result is of (LoadedModel.key). */
  modelKey: number | null;
  /** What is shown; kept while a newer inspection runs. */
  result: InspectResult | null;
  /** The target key of `result` (see inspectionTarget). */
  shownKey: string | null;
  /** The pruned configuration `result.pruned` is of. */
  comparison: Comparison | null;
  running: { key: string; progress: Progress } | null;
  error: string | null;
  /** The user stopped the last inspection. */
  cancelled: boolean;
}

export interface InspectSlice {
  /** What the picker offers for the loaded model; null until the worker answered. */
  pickerInputs: { modelKey: number; inputs: EvalInputs } | null;
  inspection: Inspection;
  loadPickerInputs(): Promise<void>;
  /** Inspects the selected input, unless that is already shown or running (a newer one cancels the older). */
  inspect(): void;
  cancelInspect(): void;
  /** Selects an input (it goes into the share link); the panel then inspects it. */
  setInput(choice: InputChoice): void;
}

export interface InspectSliceDeps {
  engine: () => EngineClient;
}

const emptyInspection: Inspection = {
  modelKey: null,
  result: null,
  shownKey: null,
  comparison: null,
  running: null,
  error: null,
  cancelled: false,
};

/** The engine's input for the selected one: an input that does not fit the model is its default. */
export function inspectSource(choice: InputChoice, inputs: EvalInputs): InspectSource | null {
  if (inputs.kind === 'text') {
    if (choice.kind === 'text') return { kind: 'text', text: choice.text };
    return inputs.prompt ? { kind: 'text', text: inputs.prompt } : null;
  }
  if (choice.kind === 'eval') return { kind: 'eval-image', index: choice.index };
  if (choice.kind === 'drawn') return { kind: 'pixels', pixels: choice.pixels };
  return inputs.images.length > 0 ? { kind: 'eval-image', index: 0 } : null;
}

/** Whether a selected input fits the model the picker offers inputs for. */
export function inputFits(choice: InputChoice, inputs: EvalInputs): boolean {
  return choice.kind === 'default' || (inputs.kind === 'text') === (choice.kind === 'text');
}

/** The pruned configuration in words: the measured report's own description where it has one. */
export function comparisonLabel(recipe: WorkbenchRecipe, report: WorkbenchReport): string {
  if ('structure' in report) return report.structure;
  const r = recipe.kind === 'unstructured' ? recipe.recipe : null;
  return `${r?.method ?? ''}${r?.nm ? ` ${r.nm.n}:${r.nm.m}` : ''} · ${formatPercent(report.sparsity, 0)} of the block weights pruned`;
}

/**
 * What to inspect now: the selected input, compared with the current configuration once its report
 * is in; while a new configuration is being measured, with the one already compared (its masks are
 * still in the worker, so nothing is pruned twice); at sparsity 0, with nothing.
 */
export function inspectionTarget(
  s: WorkbenchState,
): { key: string; source: InspectSource; comparison: Comparison | null } | null {
  const model = s.model;
  if (!model || s.pickerInputs?.modelKey !== model.key) return null;
  const source = inspectSource(parseInputCode(s.config.input), s.pickerInputs.inputs);
  if (!source) return null;
  let comparison: Comparison | null = null;
  if (amountOf(s.config) > 0) {
    const recipe = recipeOf(s.config);
    const cur = s.current;
    if (cur.status === 'done' && cur.key === JSON.stringify(recipe))
      comparison = { recipe, label: comparisonLabel(recipe, cur.report) };
    else if (s.inspection.modelKey === model.key) comparison = s.inspection.comparison;
  }
  return {
    key: `${model.key}|${s.config.input}|${comparison ? JSON.stringify(comparison.recipe) : 'dense'}`,
    source,
    comparison,
  };
}

export function inspectSlice(deps: InspectSliceDeps): StateCreator<WorkbenchState, [], [], InspectSlice> {
  let job: Job<InspectResult> | null = null;

  return (set, get) => ({
    pickerInputs: null,
    inspection: emptyInspection,

    async loadPickerInputs() {
      const model = get().model;
      if (!model) return;
      try {
        const inputs = await deps.engine().evalInputs(PICKER_IMAGES);
        if (get().model?.key !== model.key) return;
        set({ pickerInputs: { modelKey: model.key, inputs } });
        // An input chosen for another model (an image for a text model, say) gives way to the default.
        if (!inputFits(parseInputCode(get().config.input), inputs)) get().setConfig({ input: '' });
      } catch (e) {
        if (get().model?.key === model.key)
          set({ inspection: { ...emptyInspection, modelKey: model.key, error: errorMessage(e) } });
      }
    },

    inspect() {
      const s = get();
      const target = inspectionTarget(s);
      if (!target || !s.model) return;
      const modelKey = s.model.key;
      const prev = s.inspection.modelKey === modelKey ? s.inspection : { ...emptyInspection, modelKey };
      if (
        prev.running?.key === target.key ||
        (!prev.running && !prev.error && !prev.cancelled && prev.shownKey === target.key)
      )
        return;
      const current = deps
        .engine()
        .inspect({ source: target.source, recipe: target.comparison?.recipe ?? null }, (progress) => {
          if (job === current) set({ inspection: { ...get().inspection, running: { key: target.key, progress } } });
        });
      job = current;
      set({
        inspection: {
          ...prev,
          running: { key: target.key, progress: { label: 'Inspecting', fraction: null } },
          error: null,
          cancelled: false,
        },
      });
      current.result.then(
        (result) => {
          if (job !== current) return;
          job = null;
          set({
            inspection: { ...emptyInspection, modelKey, result, shownKey: target.key, comparison: target.comparison },
          });
        },
        (e) => {
          if (job !== current) return;
          job = null;
          set({
            inspection: {
              ...get().inspection,
              running: null,
              error: isAbortError(e) ? null : errorMessage(e),
              cancelled: isAbortError(e),
            },
          });
        },
      );
    },

    cancelInspect() {
      job?.cancel();
    },

    setInput(choice) {
      get().setConfig({ input: inputCode(choice) });
    },
  });
}
