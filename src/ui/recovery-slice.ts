// The store's recovery slice: training what the pruned model kept and watching its metric come back.
// The form's settings (a draft until a run ends), the run with its streamed loss and metric, and
// every recovered point beside its pruned one for the trade-off chart. A finished or cancelled run
// becomes the configuration's `recovery`, which the share link holds; a new prune makes the run
// stale (configSlice.prune drops it), a failed one changes neither the pruned result nor the
// configuration.
import type { StateCreator } from 'zustand/vanilla';
import { recoveryModeEntry } from '../engine/recovery/modes';
import { type CurvePoint, type EngineClient, headlineOf, type RecoveryReport } from '../workers/client';
import { type ChartPoint, recipeFor } from './config-slice';
import { IDLE, type JobState, type Jobs, mapJob } from './jobs';
import { patchedChoice, recoveryRequestOf } from './recovery';
import { defaultRecoveryChoice, type RecoveryChoice } from './share';
import type { WorkbenchState } from './store';

/** A recovery run as the page shows it: the engine's report, and the configuration's point before and after. */
export interface RecoveryRun {
  choice: RecoveryChoice;
  report: RecoveryReport;
  /** LoRA: the linears adapted. */
  adapted: string[];
  pruned: ChartPoint;
  recovered: ChartPoint;
}

/** A recovered point beside the pruned one it came from, for the chart. */
export interface RecoveredPair {
  key: string;
  /** The configuration's model (ShareState.model): the chart shows the loaded model's. */
  model: string;
  label: string;
  pruned: ChartPoint;
  recovered: ChartPoint;
}

export interface RecoverySlice {
  /** The Recover form: what the next run uses (the link's recovery when the page opened on one). */
  recoveryDraft: RecoveryChoice;
  recovery: JobState<RecoveryRun>;
  /** The running (or last) run's loss and held-out metric, as the worker streams them. */
  recoveryLive: { loss: CurvePoint[]; metric: CurvePoint[] };
  recoveredPoints: RecoveredPair[];

  setRecoveryDraft(patch: Partial<RecoveryChoice>): void;
  /** Recovers the current pruned result with `choice` (default: the draft); nothing while no result is shown. */
  recover(choice?: RecoveryChoice): Promise<void>;
  /** Stops the run; the worker answers with the best weights measured so far. */
  cancelRecovery(): void;
  /** Forgets the run shown or running: the pruned result it was about is being replaced. */
  dropRecovery(): void;
}

export interface RecoverySliceDeps {
  engine: () => EngineClient;
  jobs: Jobs;
}

export function recoverySlice(deps: RecoverySliceDeps): StateCreator<WorkbenchState, [], [], RecoverySlice> {
  return (set, get) => {
    const running = deps.jobs.slot(
      () => get().recovery,
      (recovery) => set({ recovery }),
    );
    /** Counts runs: a stream of a run that was replaced or dropped draws nothing. */
    let runs = 0;
    const noLive = () => ({ loss: [], metric: [] });

    return {
      recoveryDraft: defaultRecoveryChoice(),
      recovery: IDLE,
      recoveryLive: noLive(),
      recoveredPoints: [],

      setRecoveryDraft(patch) {
        set({ recoveryDraft: patchedChoice(get().recoveryDraft, patch) });
      },

      async recover(given) {
        const model = get().model;
        const current = get().current;
        if (!model || current.status !== 'done') return;
        const choice = given ?? get().recoveryDraft;
        if (given) set({ recoveryDraft: given });
        const request = recoveryRequestOf(choice, recipeFor(get().config, model.summary));
        const pruned = current.value.point;
        const run = ++runs;
        set({ recoveryLive: noLive() });
        const outcome = await running.start(
          JSON.stringify(request),
          (onProgress) =>
            mapJob(
              deps.engine().recover(request, (progress) => {
                const p = progress.recovery;
                if (p && run === runs) {
                  const live = get().recoveryLive;
                  set({
                    recoveryLive:
                      p.kind === 'loss'
                        ? { ...live, loss: [...live.loss, { step: p.step, value: p.loss }] }
                        : { ...live, metric: [...live.metric, { step: p.step, value: p.metric }] },
                  });
                }
                onProgress(progress);
              }),
              (answer): RecoveryRun => ({
                choice,
                report: answer.report,
                adapted: answer.adapted,
                pruned,
                recovered: { ...pruned, metric: headlineOf(answer.report.after) },
              }),
            ),
          { label: 'Starting the recovery', fraction: 0 },
        );
        if (outcome.status !== 'done' || run !== runs) return;
        const r = outcome.value;
        // The whole curves as the engine kept them (the stream's are every few steps).
        set({ recoveryLive: { loss: r.report.lossCurve, metric: r.report.metricCurve } });
        const key = JSON.stringify(request);
        const pair: RecoveredPair = {
          key,
          model: get().config.model,
          label: `${recoveryModeEntry(choice.mode).label}, ${r.report.step} steps`,
          pruned: r.pruned,
          recovered: r.recovered,
        };
        set({
          // Set directly: the pruned configuration is unchanged, only what it shows.
          config: { ...get().config, recovery: choice },
          recoveredPoints: [...get().recoveredPoints.filter((p) => p.key !== key), pair],
        });
      },

      cancelRecovery() {
        running.cancel();
      },

      dropRecovery() {
        runs++;
        running.reset();
        set({ recoveryLive: noLive() });
      },
    };
  };
}
