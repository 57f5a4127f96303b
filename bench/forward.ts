// Forward time of each default model over its shipped evaluation set, on every TensorFlow.js
// backend this machine has, side by side in one run. Prints a table and JSON.
//   npm run bench                       (CPU, WASM, and WebGPU if a Vulkan driver is found)
//   BACKENDS=wasm,webgpu MODELS=gpt-bytes REPEATS=1 npm run bench
import * as tf from '@tensorflow/tfjs';
import { ModelSession } from '../src/engine/session';
import { readModelDir } from '../src/cli/model-dir';
import { useBackend, type BackendName } from './lib/backends';

const MODELS = (process.env.MODELS ?? 'vit-fashion,gpt-bytes').split(',');
const BACKENDS = (process.env.BACKENDS ?? 'cpu,wasm,webgpu').split(',') as BackendName[];
const REPEATS = Number(process.env.REPEATS ?? 3);

interface Row {
  model: string;
  backend: string;
  device: string;
  examples: string;
  medianMs: number;
  runsMs: number[];
  metric: string;
}

async function main() {
  const rows: Row[] = [];
  for (const backend of BACKENDS) {
    const device = await useBackend(backend);
    if (!device) {
      console.error(`${backend}: not available here, skipped`);
      continue;
    }
    for (const id of MODELS) {
      const session = ModelSession.open(readModelDir(`public/models/${id}`).files);
      const s = session.summary();
      // Warm-up on the first batch (shader compilation, allocation): every kernel runs once.
      const first = new AbortController();
      await session.evaluate({ signal: first.signal, onProgress: () => first.abort() }).catch(() => undefined);
      const runsMs: number[] = [];
      let metric = '';
      for (let r = 0; r < REPEATS; r++) {
        const t0 = performance.now();
        const m = await session.evaluate();
        runsMs.push(performance.now() - t0);
        metric =
          m.kind === 'classifier' ? `${(100 * m.accuracy).toFixed(2)}% top-1` : `${m.bitsPerByte.toFixed(3)} bits/byte`;
      }
      session.dispose();
      const sorted = runsMs.slice().sort((a, b) => a - b);
      const examples = s.evalSet?.kind === 'images' ? `${s.evalSet.count} images` : `${s.evalSet?.bytes} bytes`;
      rows.push({
        model: id,
        backend,
        device,
        examples,
        medianMs: sorted[Math.floor(sorted.length / 2)],
        runsMs,
        metric,
      });
      console.error(
        `${id} on ${device}: ${rows.at(-1)!.medianMs.toFixed(0)} ms (${metric}); tensors alive ${tf.memory().numTensors}`,
      );
    }
  }
  console.log(`\n| model | backend | eval set | forward over the set (median of ${REPEATS}) | vs cpu | metric |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const base = rows.find((x) => x.model === r.model && x.backend === 'cpu');
    const ratio = base ? `${(base.medianMs / r.medianMs).toFixed(1)}×` : '—';
    console.log(`| ${r.model} | ${r.device} | ${r.examples} | ${r.medianMs.toFixed(0)} ms | ${ratio} | ${r.metric} |`);
  }
  console.log(`\n${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
