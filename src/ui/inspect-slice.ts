// The store's inspection slice: the input picker's offer (eval images or a default prompt), and what
// the worker answered about the selected input — attention maps, saliency and predictions of the
// dense model and of the current pruned configuration once it has been measured. The selected input
// itself lives in `config.input` (it is part of the share link).
import type { StateCreator } from 'zustand/vanilla';
import {
  errorMessage,
  type EngineClient,
  type EvalInputs,
  type InspectResult,
  type InspectSource,
  type WorkbenchRecipe,
  type WorkbenchReport,
} from '../workers/client';
import { changesModel, recipeFor } from './config-slice';
import { IDLE, type JobState, type Jobs, mapJob, shownOf } from './jobs';
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

/** What an inspection answered: the worker's result, for which model, against which configuration. */
export interface Inspection {
  /** The model the result is of (LoadedModel.key). */
  modelKey: number;
  result: InspectResult;
  /** The pruned configuration `result.pruned` is of. */
  comparison: Comparison | null;
}

export interface InspectSlice {
  /** What the picker offers for the loaded model; null until the worker answered. */
  pickerInputs: { modelKey: number; inputs: EvalInputs } | null;
  /** The inspection of the selected input (its key: see inspectionTarget); the last answer stays while the next runs. */
  inspection: JobState<Inspection>;
  loadPickerInputs(): Promise<void>;
  /** Inspects the selected input, unless that is already shown or running (a newer one cancels the older). */
  inspect(): void;
  cancelInspect(): void;
  /** Selects an input (it goes into the share link); the panel then inspects it. */
  setInput(choice: InputChoice): void;
}

export interface InspectSliceDeps {
  engine: () => EngineClient;
  jobs: Jobs;
}

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
  return `${r?.method ?? ''}${r?.nm ? ` ${r.nm.n}:${r.nm.m}` : ''} · ${formatPercent(report.sparsity, 0)} of the block weights pruned${r?.quant ? ` · ${r.quant.bits}-bit` : ''}`;
}

/**
 * What to inspect now: the selected input, compared with the current configuration once its report
 * is in; while a new configuration is being measured, with the one already compared (its masks are
 * still in the worker, so nothing is pruned twice); at sparsity 0 unquantized, with nothing.
 */
export function inspectionTarget(
  s: WorkbenchState,
): { key: string; source: InspectSource; comparison: Comparison | null } | null {
  const model = s.model;
  if (!model || s.pickerInputs?.modelKey !== model.key) return null;
  const source = inspectSource(parseInputCode(s.config.input), s.pickerInputs.inputs);
  if (!source) return null;
  let comparison: Comparison | null = null;
  if (changesModel(s.config)) {
    const recipe = recipeFor(s.config, model.summary);
    const cur = s.current;
    const shown = shownOf(s.inspection)?.value;
    if (cur.status === 'done' && cur.key === JSON.stringify(recipe))
      comparison = { recipe, label: comparisonLabel(recipe, cur.value.report) };
    else if (shown?.modelKey === model.key) comparison = shown.comparison;
  }
  return {
    key: `${model.key}|${s.config.input}|${comparison ? JSON.stringify(comparison.recipe) : 'dense'}`,
    source,
    comparison,
  };
}

export function inspectSlice(deps: InspectSliceDeps): StateCreator<WorkbenchState, [], [], InspectSlice> {
  return (set, get) => {
    const inspecting = deps.jobs.slot(
      () => get().inspection,
      (inspection) => set({ inspection }),
    );

    return {
      pickerInputs: null,
      inspection: IDLE,

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
            inspecting.reset({ status: 'failed', key: `${model.key}|inputs`, message: errorMessage(e), last: null });
        }
      },

      inspect() {
        const s = get();
        const target = inspectionTarget(s);
        if (!target || !s.model) return;
        const i = s.inspection;
        if ((i.status === 'running' || i.status === 'done') && i.key === target.key) return;
        const modelKey = s.model.key;
        void inspecting.start(
          target.key,
          (onProgress) =>
            mapJob(
              deps.engine().inspect({ source: target.source, recipe: target.comparison?.recipe ?? null }, onProgress),
              (result) => ({ modelKey, result, comparison: target.comparison }),
            ),
          { label: 'Inspecting', fraction: null },
        );
      },

      cancelInspect() {
        inspecting.cancel();
      },

      setInput(choice) {
        get().setConfig({ input: inputCode(choice) });
      },
    };
  };
}
