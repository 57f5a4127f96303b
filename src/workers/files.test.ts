import { describe, expect, it } from 'vitest';
import { givenFile, readWeights, toModelFiles, sortFiles } from './files';

const f = (name: string, text = '{}') => givenFile({ name, bytes: new TextEncoder().encode(text) });

describe('dropped files', () => {
  it('are sorted by their Hugging Face names; the rest is ignored', () => {
    const { byRole, rest } = sortFiles([
      f('config.json'),
      f('model.safetensors'),
      f('tokenizer.json'),
      f('eval.safetensors'),
      f('README.md'),
    ]);
    expect(Object.keys(byRole).sort()).toEqual(['config', 'evalSet', 'tokenizer', 'weights']);
    expect(rest.map((r) => r.name)).toEqual(['README.md']);
  });
  it('take a single renamed *.safetensors as the weights', () => {
    expect(sortFiles([f('config.json'), f('model (1).safetensors')]).byRole.weights?.name).toBe(
      'model (1).safetensors',
    );
    expect(sortFiles([f('config.json'), f('a.safetensors'), f('b.safetensors')]).byRole.weights).toBeUndefined();
  });
  it('name what is missing, duplicated or unreadable', async () => {
    await expect(toModelFiles([f('model.safetensors')])).rejects.toThrow(/config\.json is missing/);
    await expect(toModelFiles([f('notes.txt')])).rejects.toThrow(/config\.json and model\.safetensors are missing/);
    await expect(toModelFiles([f('config.json'), f('config.json'), f('model.safetensors')])).rejects.toThrow(
      /config\.json was given twice/,
    );
    await expect(toModelFiles([f('config.json', '{oops'), f('model.safetensors')])).rejects.toThrow(
      /^config\.json is not valid JSON/,
    );
  });
  it('become ModelFiles, the weights read only when asked', async () => {
    const r = await toModelFiles([
      f('config.json', '{"a":1}'),
      f('model.safetensors', 'xx'),
      f('generation_config.json'),
    ]);
    expect(r.modelFiles.config).toEqual({ a: 1 });
    expect([...r.modelFiles.weights.keys()]).toEqual(['model.safetensors']);
    expect((await readWeights(r.modelFiles)).weights).toEqual(
      new Map([['model.safetensors', new TextEncoder().encode('xx')]]),
    );
    expect(r.modelFiles.tokenizer).toBeUndefined();
    expect(r.used).toEqual(['config.json', 'model.safetensors']);
    expect(r.ignored).toEqual(['generation_config.json']);
  });
});
