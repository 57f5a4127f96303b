// What the tests of recovery share: the tiny GPT-2 over bytes (weights of seed 9) opened as a
// session on a short text, held out and trained on the same verse, so that a short run must win
// back what pruning cost.
import { writeSafetensors } from '../io/safetensors';
import { serializeWeights } from '../model/checkpoint';
import { randomHostWeights, TINY_GPT2_CONFIG, tinyGpt2 } from '../model/tiny-models';
import { byteLevelTokenizerJson } from '../model/tokenizer';
import { ModelSession } from '../session';

const text = (s: string) => {
  const bytes = new TextEncoder().encode(s);
  return writeSafetensors({ bytes: { dtype: 'U8', shape: [bytes.length], data: bytes } });
};

const VERSE = 'In the beginning God created the heaven and the earth. ';

export function verseSession(): ModelSession {
  return ModelSession.open({
    config: { ...TINY_GPT2_CONFIG, vocab_size: 256 },
    weights: serializeWeights(randomHostWeights({ ...tinyGpt2(), vocabSize: 256 }, 9)),
    tokenizer: byteLevelTokenizerJson(),
    evalSet: text(VERSE.repeat(3)),
    calibSet: text(VERSE.repeat(6)),
  });
}
