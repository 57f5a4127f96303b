import { describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import { parseConfig, type VitConfig } from '../model/config';
import { tinyGpt2, TINY_VIT_CONFIG } from '../model/tiny-models';
import { userDataSet } from './user-data';

const vit = parseConfig({ ...TINY_VIT_CONFIG, image_size: 4, patch_size: 2, num_channels: 1 }) as VitConfig;
const png = (v: number) => encodePng({ width: 4, height: 4, channels: 1, depth: 8, data: new Uint8Array(16).fill(v) });
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('user data sets', () => {
  it('a language model: one UTF-8 text file', () => {
    expect(userDataSet([{ name: 'a.txt', bytes: utf8('hello') }], tinyGpt2())).toEqual({
      kind: 'text',
      bytes: utf8('hello'),
    });
    expect(() => userDataSet([{ name: 'a.bin', bytes: Uint8Array.of(0xff) }], tinyGpt2())).toThrow(
      'a.bin is not UTF-8 text',
    );
    expect(() =>
      userDataSet(
        [
          { name: 'a.txt', bytes: utf8('a') },
          { name: 'b.txt', bytes: utf8('b') },
        ],
        tinyGpt2(),
      ),
    ).toThrow('one text file; 2 were given');
  });

  it('an image model: class folders, preprocessor_config.json among the files, other files skipped', () => {
    const set = userDataSet(
      [
        { name: 'data/c/2.png', bytes: png(30) },
        { name: 'data/a/1.png', bytes: png(10) },
        { name: 'data/a/notes.txt', bytes: utf8('skipped') },
        { name: 'data/preprocessor_config.json', bytes: utf8('{"image_mean": 0, "image_std": 1}') },
      ],
      vit,
    );
    if (set.kind !== 'images') throw new Error('expected images');
    expect(Array.from(set.labels)).toEqual([0, 2]); // sorted by path: a/1.png, c/2.png
    expect(set.pixels[0]).toBe(10);
    expect(set.pixels[16]).toBe(30);
    // mean 0, std 1: input = pixel / 255.
    expect(set.normalization?.scale[0]).toBeCloseTo(1 / 255, 10);
    expect(set.normalization?.offset).toEqual([0]);
    expect(() => userDataSet([{ name: 'data/zebra/1.png', bytes: png(1) }], vit)).toThrow(
      'data/zebra: "zebra" is not one of the model\'s labels',
    );
    expect(() => userDataSet([{ name: '1.png', bytes: png(1) }], vit)).toThrow(
      'images go in a folder named by their class',
    );
    expect(() => userDataSet([{ name: 'a/x.txt', bytes: utf8('x') }], vit)).toThrow('no PNG or JPEG images were given');
  });
});
