// Measures both default models on their full held-out sets (installed from Debian packages when
// missing): vit-fashion on all 10,000 Fashion-MNIST test images, gpt-bytes on every held-out
// chapter of the King James Bible. Prints a table and the figures as JSON.
//   npm run eval
import { ModelSession } from '../src/engine/session';
import { evaluateClassifier, evaluateLm } from '../src/engine/eval/metrics';
import { loadFashionMnist } from './data/fashion-mnist';
import { loadKjv } from './data/kjv';
import { readModelDir } from '../src/cli/model-dir';
import { useWasm } from './lib/train';

async function main() {
  await useWasm();
  const results: Record<string, unknown> = {};

  const vit = ModelSession.open(readModelDir('public/models/vit-fashion').files);
  if (vit.config.kind !== 'vit') throw new Error('vit-fashion is not a ViT');
  const test = loadFashionMnist('t10k');
  let t0 = performance.now();
  const full = await evaluateClassifier(vit.config, vit.weights, test.images, test.labels);
  const shipped = await vit.evaluate();
  if (shipped.kind !== 'classifier') throw new Error('unexpected metric kind');
  results['vit-fashion'] = { test10k: full, shippedEval: shipped, seconds: (performance.now() - t0) / 1000 };
  console.log(
    `vit-fashion  top-1 ${(100 * full.accuracy).toFixed(2)}% on ${full.count} test images; shipped eval set ${(100 * shipped.accuracy).toFixed(2)}% on ${shipped.count}`,
  );

  const gpt = ModelSession.open(readModelDir('public/models/gpt-bytes').files);
  if (gpt.config.kind !== 'gpt2') throw new Error('gpt-bytes is not a GPT-2');
  const { heldOut } = loadKjv();
  t0 = performance.now();
  const lm = await evaluateLm(gpt.config, gpt.weights, Int32Array.from(heldOut), heldOut.length, { batchSize: 32 });
  const lmShipped = await gpt.evaluate();
  if (lmShipped.kind !== 'lm') throw new Error('unexpected metric kind');
  results['gpt-bytes'] = { heldOut: lm, shippedEval: lmShipped, seconds: (performance.now() - t0) / 1000 };
  console.log(
    `gpt-bytes    ${lm.bitsPerByte.toFixed(3)} bits/byte, perplexity ${lm.perplexity.toFixed(3)}, next-byte accuracy ${(100 * lm.nextTokenAccuracy).toFixed(1)}% on ${lm.tokens} held-out bytes; shipped eval set ${lmShipped.bitsPerByte.toFixed(3)} bits/byte`,
  );
  console.log(JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
