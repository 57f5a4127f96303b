// The evaluation text of a session is encoded only as far as the windows asked for reach.
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from './io/safetensors';
import { serializeWeights } from './model/checkpoint';
import { randomHostWeights, TINY_GPT2_CONFIG, tinyGpt2 } from './model/tiny-models';
import { byteLevelTokenizerJson, loadTokenizer, LONG_TEXT } from './model/tokenizer';
import { evaluateLm, lmWindowCount } from './eval/metrics';
import { toTfWeights } from './model/weights';
import { encodeText, encodeTextPrefix, ModelSession } from './session';

const VERSE = 'In the beginning God created the heaven and the earth.\n';
// Four pieces and more of LONG_TEXT characters each.
const LONG = VERSE.repeat(Math.ceil((4.5 * LONG_TEXT) / VERSE.length));
const bytesOf = (s: string) => ({ bytes: new TextEncoder().encode(s) });

describe('evaluation text encoded as far as it is read', () => {
  const tokenizer = loadTokenizer(byteLevelTokenizerJson());

  it('a prefix is the whole encoding cut, pieces read only until enough tokens', () => {
    const whole = encodeText(tokenizer, bytesOf(LONG));
    const prefix = encodeTextPrefix(tokenizer, bytesOf(LONG), 100);
    expect(prefix.whole).toBe(false);
    expect(prefix.tokens.length).toBeGreaterThanOrEqual(100);
    expect(prefix.tokens.length).toBeLessThan(2 * LONG_TEXT);
    expect([...prefix.tokens]).toEqual([...whole.subarray(0, prefix.tokens.length)]);
    const all = encodeTextPrefix(tokenizer, bytesOf(LONG), Infinity);
    expect(all.whole).toBe(true);
    expect(all.tokens).toEqual(whole);
    // More than the text holds: all of it.
    expect(encodeTextPrefix(tokenizer, bytesOf(VERSE), 1000)).toEqual({
      tokens: encodeText(tokenizer, bytesOf(VERSE)),
      whole: true,
    });
  });

  it('a session measures --eval-count windows from the prefix, and the whole text when asked for more', async () => {
    const config = { ...tinyGpt2(), vocabSize: 256 };
    const host = randomHostWeights(config, 9);
    const bytes = new TextEncoder().encode(LONG);
    const session = ModelSession.open({
      config: { ...TINY_GPT2_CONFIG, vocab_size: 256 },
      weights: serializeWeights(host),
      tokenizer: byteLevelTokenizerJson(),
      evalSet: writeSafetensors({ bytes: { dtype: 'U8', shape: [bytes.length], data: bytes } }),
    });
    const t = session.evalWindow;
    expect(session.useEvalSet(null, { maxWindows: 3, stride: 4 })).toEqual({ windows: 3 });
    const whole = encodeText(tokenizer, { bytes });
    const expected = await evaluateLm(config, toTfWeights(host), whole, bytes.length, {
      context: t,
      stride: 4,
      maxWindows: 3,
      tokenBytes: () => 1,
    });
    const measured = await session.evaluate();
    expect(measured).toEqual(expected);
    // The prefix is not taken for the whole text.
    expect(session.useEvalSet(null, {})).toEqual({ windows: lmWindowCount(whole.length, t) });
    session.dispose();
  });
});
