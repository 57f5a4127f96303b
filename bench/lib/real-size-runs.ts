// What bench/real-sizes.ts measures with: a CLI run (or any command) as its own process under
// /usr/bin/time (wall time, peak resident memory, CPU share, exit status, stdout, the stderr's
// tail), and a check of an exported checkpoint read a header and a tensor at a time (dtype of every
// tensor, sharding, zeros of every pruned projection); and the rows' table, markdown for the README.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileSource } from '../../src/cli/file-source';
import { readSafetensorsHeaderFrom } from '../../src/engine/io/safetensors';
import { INDEX_FILE, parseShardIndex, shardFiles } from '../../src/engine/io/shard-index';
import { parseConfig } from '../../src/engine/model/config';
import { linearSpecs } from '../../src/engine/model/schema';

/** The last characters of a failed run's stderr kept in the results. */
const STDERR_TAIL = 4000;
const WEIGHTS_FILE = 'model.safetensors';

export interface TimedRun {
  command: string;
  exitStatus: number | null;
  /** "Command terminated by signal N" or the signal Node saw, when the run was killed. */
  signal: string | null;
  wallS: number;
  /** Peak resident set size, bytes (GNU time's "Maximum resident set size", KiB × 1024). */
  peakRssBytes: number | null;
  /** User + system CPU time over wall time, % (100 = one core busy the whole run). */
  cpuPercent: number | null;
  stdout: string;
  stderrTail: string;
}

/** Runs `npx tsx src/cli/main.ts ARGS` under `/usr/bin/time -v` (see timedCommand). */
export function timedCli(args: string[]): Promise<TimedRun> {
  return timedCommand(['npx', 'tsx', 'src/cli/main.ts', ...args]);
}

/**
 * Runs `argv` under `/usr/bin/time -v`, its report written to a file of its own so that the
 * command's stderr (progress) passes through to ours as it comes.
 */
export function timedCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<TimedRun> {
  const tmp = mkdtempSync(join(tmpdir(), 'real-sizes-'));
  const report = join(tmp, 'time.txt');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-v', '-o', report, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      process.stderr.write(s);
      stderr = (stderr + s).slice(-STDERR_TAIL);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ownWallS = (performance.now() - t0) / 1000;
      const text = existsSync(report) ? readFileSync(report, 'utf8') : '';
      rmSync(tmp, { recursive: true, force: true });
      const field = (name: string) => new RegExp(`${name}: (.+)`).exec(text)?.[1].trim();
      const elapsed = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)');
      let wallS = ownWallS;
      if (elapsed) {
        const [h, m, s] = elapsed.split(':').map(Number);
        wallS = s === undefined ? h * 60 + m : h * 3600 + m * 60 + s;
      }
      const rss = field('Maximum resident set size \\(kbytes\\)');
      const cpu = field('Percent of CPU this job got');
      const status = field('Exit status');
      const killed = /Command terminated by signal (\d+)/.exec(text)?.[0] ?? signal ?? null;
      resolve({
        command: argv.join(' '),
        exitStatus: status !== undefined ? Number(status) : code,
        signal: killed,
        wallS,
        peakRssBytes: rss !== undefined ? Number(rss) * 1024 : null,
        cpuPercent: cpu !== undefined && /^\d+%$/.test(cpu) ? Number(cpu.slice(0, -1)) : null,
        stdout,
        stderrTail: stderr,
      });
    });
  });
}

export interface ExportCheck {
  dir: string;
  /** Weight files read: the shards the index names, or model.safetensors. */
  files: string[];
  /** model.safetensors.index.json is there and names at least two shards. */
  sharded: boolean;
  /** Weight files: 1 for a lone model.safetensors. */
  shards: number;
  /** Tensors per dtype over all weight files. */
  dtypes: Record<string, number>;
  allBf16: boolean;
  /** Pruned projections (q, k, v, o, gate, up, down of every block) expected and found. */
  projections: { expected: number; found: number; missing: string[] };
  /** Share of exact zeros per projection: the least and the most, and where. */
  zeroFraction: { min: number; minAt: string; max: number; maxAt: string } | null;
  /** The projections' zero fractions are all `target` within `tolerance`. */
  zerosOk: boolean;
  ok: boolean;
  error?: string;
}

/** Exact zeros (either sign) among `n` values of a little-endian `dtype` tensor. */
function countZeros(bytes: Uint8Array, dtype: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let zeros = 0;
  if (dtype === 'BF16' || dtype === 'F16') {
    for (let i = 0; i < bytes.length; i += 2) if ((view.getUint16(i, true) & 0x7fff) === 0) zeros++;
  } else if (dtype === 'F32') {
    for (let i = 0; i < bytes.length; i += 4) if ((view.getUint32(i, true) & 0x7fffffff) === 0) zeros++;
  } else throw new Error(`cannot count zeros of a ${dtype} tensor`);
  return zeros;
}

const BYTES_PER_VALUE: Record<string, number> = { BF16: 2, F16: 2, F32: 4 };

/**
 * Checks an exported checkpoint in `dir` without loading it: every tensor's dtype from the shards'
 * headers, the index and its shards, and the zeros of every prunable projection the config names,
 * read one tensor at a time.
 */
export async function checkExport(dir: string, target = 0.5, tolerance = 1e-3): Promise<ExportCheck> {
  const check: ExportCheck = {
    dir,
    files: [],
    sharded: false,
    shards: 0,
    dtypes: {},
    allBf16: false,
    projections: { expected: 0, found: 0, missing: [] },
    zeroFraction: null,
    zerosOk: false,
    ok: false,
  };
  try {
    const config = parseConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    const expected = new Set(
      linearSpecs(config)
        .filter((l) => l.prunable)
        .map((l) => l.weight),
    );
    check.projections.expected = expected.size;
    if (existsSync(join(dir, INDEX_FILE))) {
      check.files = shardFiles(parseShardIndex(JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8'))));
      check.sharded = check.files.length >= 2;
    } else check.files = [WEIGHTS_FILE];
    check.shards = check.files.length;

    let min = { value: Infinity, at: '' };
    let max = { value: -Infinity, at: '' };
    const found = new Set<string>();
    for (const file of check.files) {
      const source = await openFileSource(join(dir, file));
      try {
        const header = await readSafetensorsHeaderFrom(source);
        for (const info of header.tensors) {
          check.dtypes[info.dtype] = (check.dtypes[info.dtype] ?? 0) + 1;
          if (!expected.has(info.name)) continue;
          found.add(info.name);
          const bytes = await source.read(header.dataStart + info.begin, info.end - info.begin);
          const fraction = countZeros(bytes, info.dtype) / (bytes.length / BYTES_PER_VALUE[info.dtype]);
          if (fraction < min.value) min = { value: fraction, at: info.name };
          if (fraction > max.value) max = { value: fraction, at: info.name };
        }
      } finally {
        await source.close();
      }
    }
    check.allBf16 = Object.keys(check.dtypes).length === 1 && check.dtypes.BF16 > 0;
    check.projections.found = found.size;
    check.projections.missing = [...expected].filter((name) => !found.has(name));
    if (found.size > 0) check.zeroFraction = { min: min.value, minAt: min.at, max: max.value, maxAt: max.at };
    check.zerosOk =
      check.projections.missing.length === 0 &&
      found.size > 0 &&
      Math.abs(min.value - target) <= tolerance &&
      Math.abs(max.value - target) <= tolerance;
    check.ok = check.allBf16 && check.sharded && check.zerosOk;
  } catch (e) {
    check.error = (e as Error).message;
  }
  return check;
}

/** One row's results, as the JSON holds them. */
export interface Row {
  row: string;
  command: string;
  exitStatus: number | null;
  signal: string | null;
  wallS: number;
  peakRssMB: number | null;
  bar: { wallS: number; peakRssMB: number } | null;
  /** Exit 0 within the bar's time and memory; null without a bar. */
  met: boolean | null;
  /** How far past the bar (0 where within it); null when met or without a bar. */
  missedBy: { wallS: number; peakRssMB: number } | null;
  metric: { bitsPerByte: number | null; loss: number | null } | null;
  sparsity: number | null;
  /** The CLI's own timings (calibration, prune, evaluate …), ms. */
  timeMs: Record<string, number> | null;
  /** With --recover: its updates, their mean time and the whole run's (evaluations included), ms. */
  recovery?: { stepsDone: number | null; msPerStep: number | null; timeMs: number | null } | null;
  check?: ExportCheck | null;
  /** Exit 0, but stdout was not the JSON report. */
  reportError?: string;
  stderrTail?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** The metric, sparsity and timings of a prune report, or of an export's recipe. */
export function reportFields(report: unknown): Pick<Row, 'metric' | 'sparsity' | 'timeMs' | 'recovery'> {
  const json = isObject(report) ? report : {};
  const recipe = isObject(json.recipe) ? json.recipe : {};
  const metrics = isObject(recipe.metrics) ? recipe.metrics : {};
  const metric = isObject(json.metric) ? json.metric : isObject(metrics.metric) ? metrics.metric : null;
  const sparsity = num(json.sparsity) ?? (isObject(recipe.sparsity) ? num(recipe.sparsity.fraction) : null);
  const timeMs = isObject(json.timeMs) ? json.timeMs : isObject(metrics.timeMs) ? metrics.timeMs : null;
  return {
    metric: metric ? { bitsPerByte: num(metric.bitsPerByte), loss: num(metric.loss) } : null,
    sparsity,
    timeMs: timeMs as Record<string, number> | null,
    recovery: isObject(json.recovery)
      ? {
          stepsDone: num(json.recovery.stepsDone),
          msPerStep: num(json.recovery.msPerStep),
          timeMs: num(json.recovery.timeMs),
        }
      : null,
  };
}

// ---- Formatting ----

export function duration(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min${whole % 60 ? ` ${String(whole % 60).padStart(2, '0')} s` : ''}`;
}
export const memory = (mb: number) => (mb >= 1000 ? `${(mb / 1000).toFixed(2)} GB` : `${mb.toFixed(0)} MB`);

export function metCell(r: Row): string {
  if (r.exitStatus !== 0) return `failed (${r.signal ?? `exit ${r.exitStatus}`})`;
  if (r.reportError) return 'failed (no JSON report)';
  if (r.met === null) return '—';
  if (r.met) return 'yes';
  const over = [
    r.missedBy!.wallS > 0 ? `+${duration(r.missedBy!.wallS)}` : '',
    r.missedBy!.peakRssMB > 0 ? `+${memory(r.missedBy!.peakRssMB)}` : '',
  ].filter(Boolean);
  return `**no** (${over.join(', ')})`;
}

export function resultCell(r: Row): string {
  const parts: string[] = [];
  if (r.metric?.bitsPerByte != null) parts.push(`${r.metric.bitsPerByte.toFixed(3)} bits/byte`);
  else if (r.metric?.loss != null) parts.push(`loss ${r.metric.loss.toFixed(3)}`);
  if (r.sparsity !== null) parts.push(`sparsity ${(100 * r.sparsity).toFixed(1)}%`);
  if (r.check) {
    const c = r.check;
    if (c.error) parts.push(`check failed: ${c.error}`);
    else {
      const dtypes = Object.entries(c.dtypes)
        .map(([d, n]) => `${n} ${d}`)
        .join(', ');
      parts.push(`${c.allBf16 ? 'all BF16' : `**not all BF16** (${dtypes})`}`);
      parts.push(c.sharded ? `${c.shards} shards` : `**not sharded** (${c.files.join(', ')})`);
      const z = c.zeroFraction;
      const zeros = z ? `zeros ${(100 * z.min).toFixed(2)}–${(100 * z.max).toFixed(2)}%` : 'no projections';
      const missing = c.projections.missing.length > 0 ? `, ${c.projections.missing.length} missing` : '';
      parts.push(
        `${c.zerosOk ? '' : '**'}${zeros} over ${c.projections.found}/${c.projections.expected} projections${missing}${c.zerosOk ? '' : '**'}`,
      );
    }
  } else if (r.check === null) parts.push('export not checked');
  return parts.join('; ');
}

/** A markdown table: `align` per column, 'l' or 'r'; a '|' inside a cell is escaped. */
export function markdownTable(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  const rule = `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function table(rows: Row[]): string {
  return markdownTable(
    ['row', 'wall', 'peak RSS', 'bar', 'met?', 'result'],
    ['l', 'r', 'r', 'l', 'l', 'l'],
    rows.map((r) => {
      const bar = r.bar ? `≤ ${duration(r.bar.wallS)}, ≤ ${memory(r.bar.peakRssMB)}` : '—';
      const rss = r.peakRssMB === null ? '?' : memory(r.peakRssMB);
      return [r.row, duration(r.wallS), rss, bar, metCell(r), resultCell(r)];
    }),
  );
}
