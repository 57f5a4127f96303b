// eval, prune, sweep and export on a model that does not fit the memory budget whole: opened without
// reading its weights, measured and pruned a block at a time (engine/stream/streamed-prune.ts), the export written into
// --out as each block is done. The run says on stderr why it streams and what it expects to hold;
// a recipe that cannot stream, or a model that does not fit even so, is refused with the estimate.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { PruneRecipe, PruneReport } from '../engine/eval/pruner';
import { choicesOf } from '../engine/pruning/recipe';
import { familyOf, streamRefusal } from '../engine/pruning/catalogue';
import { makeCalibration, type CalibrationData } from '../engine/pruning/calibration';
import { contextLength, isCausalLm, sequenceLength, type CausalLmConfig } from '../engine/model/config';
import { lmWindowCount } from '../engine/eval/metrics';
import {
  describeEstimate,
  formatBytes,
  streamedMemory,
  wholeModelMemory,
  type MemoryEstimate,
} from '../engine/stream/memory';
import { pruneStreamed, type LmEvaluation, type StreamedPruneResult } from '../engine/stream/streamed-prune';
import type { KeptStatistics } from '../engine/stream/kept-statistics';
import type { ByteSink, OpenSink } from '../engine/export/streamed-export';
import type { ExportedRecipe, ExportProvenance } from '../engine/export/checkpoint-export';
import { streamedReport, streamedSmallFiles } from '../engine/stream/streamed-outcome';
import { openCheckpoint, gatherWeightSources } from '../engine/model/lazy-checkpoint';
import type { DataSet } from '../engine/data/datasets';
import { encodeTextPrefix, tokensFor } from '../engine/session';
import { CliError } from './errors';
import type { EvalArgs } from './args';
import { openModelDirLazily, readDataPath, type LazyModelDir } from './model-dir';
import { directorySources } from './file-source';
import type { ErrStream, Progress } from './progress';

/** The budget when --memory-budget is not given: half of this machine's memory. */
export const defaultBudget = (): number => Math.floor(totalmem() / 2);

/**
 * The model opened lazily when its whole-model run would not fit `budget` (then the caller streams
 * it), else null (the caller loads it whole as before). Says on stderr why it streams.
 */
export async function openIfTooBig(dir: string, budget: number, progress: Progress): Promise<Streaming | null> {
  const md = await openModelDirLazily(dir);
  const whole = wholeModelMemory(md.checkpoint);
  if (whole.bytes <= budget) {
    await md.close();
    return null;
  }
  progress.note(
    `note: the whole model would need about ${formatBytes(whole.bytes)}, over the memory budget of ${formatBytes(budget)}; reading it a block at a time`,
  );
  return { md, whole, budget };
}

export interface Streaming {
  md: LazyModelDir;
  whole: MemoryEstimate;
  budget: number;
}

/** What the streamed run was asked for besides the recipe. */
export interface StreamRequest {
  /** null: the model is only measured (eval). */
  recipe: PruneRecipe | null;
  /** Whether the dense model is measured too (default true; a sweep's later points know it). */
  measureDense?: boolean;
  /** One-shot statistics kept between a sweep's points. */
  kept?: KeptStatistics;
  evalArgs: EvalArgs;
  /** export: where the checkpoint goes (checked by the caller), and what recipe.json records. */
  out?: { dir: string; provenance: ExportProvenance };
  signal: AbortSignal;
  progress: Progress;
  stderr: ErrStream;
}

export interface StreamOutcome {
  /** null when there was no evaluation data (an export may go unmeasured). */
  report: PruneReport | null;
  denseMetric: StreamedPruneResult['denseMetric'];
  result: StreamedPruneResult;
  /** What the model was measured on; null when nothing was. */
  evaluation: LmEvaluation | null;
  /** export: the files written with their sizes, and recipe.json. */
  written?: { files: { name: string; bytes: number }[]; recipe: ExportedRecipe };
}

const tooBigText = (s: Streaming) =>
  `the whole model needs about ${describeEstimate(s.whole)}, over the memory budget of ${formatBytes(s.budget)}`;

/** Refuses a model that does not fit whole, saying why it cannot go a block at a time either. */
export function refuseStreaming(s: Streaming, why: string): never {
  throw new CliError(`${tooBigText(s)}; a block at a time it cannot be pruned: ${why}`);
}

/** Refuses what cannot stream or fit; runs the pass; writes the export's small files around it. */
export async function runStreamed(s: Streaming, req: StreamRequest): Promise<StreamOutcome> {
  const { md, budget } = s;
  const ck = md.checkpoint;
  const c = ck.config;
  const tooBig = tooBigText(s);
  if (!isCausalLm(c)) refuseStreaming(s, 'only language models are');
  const why = req.recipe && streamRefusal(choicesOf(req.recipe, familyOf(c.kind)));
  if (why) refuseStreaming(s, why);

  const evaluation = lmEvaluation(c, md, req.evalArgs);
  if (!evaluation && !req.out)
    throw new CliError(`${md.dir} has no eval.safetensors: give the evaluation data with --eval <path>`);
  if (!evaluation) req.progress.note(`note: ${md.dir} has no eval.safetensors; the export is not measured`);
  const calibration = req.recipe?.calibration
    ? makeCalibration(c, req.recipe.calibration, { train: md.calibSet, heldOut: md.evalSet, tokenizer: ck.tokenizer })
    : null;
  const streamed = streamedMemory(ck, {
    calibrationTokens: calibration ? calibrationTokensOf(calibration) : 0,
    evaluationTokens: evaluation ? evaluationWindows(evaluation) * evaluation.context : 0,
    evaluationBatchTokens: evaluation ? (evaluation.batchSize ?? 2) * evaluation.context : 0,
    gram: req.recipe?.method === 'sparsegpt',
  });
  if (streamed.bytes > budget)
    throw new CliError(
      `${tooBig}, and a block at a time about ${describeEstimate(streamed)}: raise --memory-budget, or use fewer calibration or evaluation windows`,
    );
  req.progress.note(`note: a block at a time the run should hold about ${formatBytes(streamed.bytes)}`);

  const sinks = req.out ? fileSinks(req.out.dir) : null;
  let result: StreamedPruneResult;
  try {
    result = await pruneStreamed({
      checkpoint: ck,
      recipe: req.recipe,
      measureDense: req.measureDense,
      statistics: req.kept?.forPass(req.recipe, calibration),
      calibration,
      evaluation,
      exportTo: sinks?.open ?? null,
      signal: req.signal,
      onProgress: (stage, f) => req.progress.update(stage, f),
    });
  } catch (e) {
    // A cancelled or failed export leaves no half-written checkpoint behind.
    if (sinks) for (const name of sinks.names) rmSync(join(req.out!.dir, name), { force: true });
    throw e;
  }
  for (const w of ck.warnings) req.stderr.write(`warning: ${w}\n`);
  const report = req.recipe && streamedReport(req.recipe, calibration, result);
  const outcome: StreamOutcome = { report, denseMetric: result.denseMetric, result, evaluation };
  if (req.out && result.export) outcome.written = await writeSmallFiles(md, req.out, result, report);
  return outcome;
}

/** config.json, recipe.json and the copied files beside the streamed weights; then the export is checked by reopening it. */
async function writeSmallFiles(
  md: LazyModelDir,
  out: NonNullable<StreamRequest['out']>,
  result: StreamedPruneResult,
  report: PruneReport | null,
): Promise<NonNullable<StreamOutcome['written']>> {
  const x = result.export!;
  const { files: small, recipe } = streamedSmallFiles(
    md.checkpoint.config,
    out.provenance,
    result,
    report,
    md.extraFiles,
  );
  for (const [name, bytes] of small) writeFileSync(join(out.dir, name), bytes);
  // What we write must load back: its headers and config checked as opening a model checks them.
  const files = directorySources(out.dir);
  try {
    const sources = await gatherWeightSources(files.open);
    if (!sources) throw new CliError(`the export in ${out.dir} has no weight files`);
    const json = (name: string) => {
      const b = small.get(name);
      return b && JSON.parse(new TextDecoder().decode(b));
    };
    await openCheckpoint({
      config: x.config,
      tokenizer: json('tokenizer.json'),
      tokenizerConfig: json('tokenizer_config.json'),
      ...sources,
    });
  } finally {
    await files.closeAll();
  }
  return { files: [...[...small].map(([name, b]) => ({ name, bytes: b.length })), ...x.files], recipe };
}

/** Sinks that write each file of the export by position into `dir`. */
function fileSinks(dir: string): { open: OpenSink; names: string[] } {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  const openSink: OpenSink = async (name, size) => {
    names.push(name);
    const handle = await open(join(dir, name), 'w');
    await handle.truncate(size);
    const sink: ByteSink = {
      write: async (offset, bytes) => {
        let done = 0;
        while (done < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, offset + done);
          done += bytesWritten;
        }
      },
      close: () => handle.close(),
    };
    return sink;
  };
  return { open: openSink, names };
}

/** The evaluation the command line asks for, or the directory's eval.safetensors; null when neither is there. */
function lmEvaluation(c: CausalLmConfig, md: LazyModelDir, e: EvalArgs): LmEvaluation | null {
  const set: DataSet | null = e.evalPath === undefined ? md.evalSet : readDataPath(e.evalPath, 'evaluation', c, md);
  if (!set) return null;
  if (set.kind !== 'text') throw new CliError('the evaluation data holds images, but the model reads text');
  const tokenizer = md.checkpoint.tokenizer;
  if (!tokenizer) throw new CliError(`${md.dir} has no tokenizer.json to read the evaluation text with`);
  const name = e.evalPath ?? join(md.dir, 'eval.safetensors');
  const context = e.seqLen ?? sequenceLength(c);
  if (!(context >= 1 && context <= contextLength(c)))
    throw new CliError(`a window of ${context} tokens does not fit the model's context of ${contextLength(c)}`);
  // Encoded only as far as the windows asked for reach.
  const { tokens } = encodeTextPrefix(
    tokenizer,
    set,
    tokensFor({ maxWindows: e.evalCount, stride: e.stride }, context),
  );
  const ev: LmEvaluation = {
    tokens,
    bytes: set.bytes.length,
    context,
    stride: e.stride ?? context,
    maxWindows: e.evalCount,
    tokenBytes: (id) => tokenizer.tokenToBytes(id).length,
  };
  if (evaluationWindows(ev) < 1)
    throw new CliError(
      `${name} is too short: it encodes to ${tokens.length} tokens, and one window needs ${context + 1}`,
    );
  return ev;
}

const evaluationWindows = (ev: LmEvaluation) => lmWindowCount(ev.tokens.length, ev.context, ev.stride, ev.maxWindows);

const calibrationTokensOf = (d: CalibrationData) => (d.kind === 'lm' ? d.count * d.length : 0);
