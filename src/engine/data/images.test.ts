// Image files → the model's input, checked against hand computation: channels, PIL-style bilinear
// resize, rescale and per-channel normalisation, and the folder-of-classes set. The test writes
// its PNG and JPEG files with the same pure-JS libraries.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { parseConfig, type VitConfig } from '../model/config';
import { TINY_VIT_CONFIG } from '../model/tiny-models';
import { pixelsToInput } from '../model/preprocess';
import {
  decodeImage,
  imageFolderSet,
  imageProcessor,
  labelOfFolder,
  modelInput,
  normalizationOf,
  preprocessImage,
  resizePlanes,
} from './images';

const vit = (over: Record<string, unknown>) => parseConfig({ ...TINY_VIT_CONFIG, ...over }) as VitConfig;
const rgb4 = vit({ image_size: 4, patch_size: 2, num_channels: 3 });
const gray4 = vit({ image_size: 4, patch_size: 2, num_channels: 1, id2label: { 0: 'T-shirt/top', 1: 'Bag' } });

const png = (width: number, height: number, channels: number, data: number[]) =>
  encodePng({ width, height, channels, depth: 8, data: Uint8Array.from(data) });

describe('image preprocessing', () => {
  it('an RGBA PNG at the model size: alpha dropped, rescaled and normalised per channel', () => {
    const data = Array.from({ length: 4 * 4 * 4 }, (_, i) => (i * 37) % 256);
    const img = decodeImage(png(4, 4, 4, data), 'x.png');
    expect([img.width, img.height, img.channels]).toEqual([4, 4, 4]);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const p = imageProcessor(rgb4, {
      do_resize: true,
      size: { height: 4, width: 4 },
      image_mean: mean,
      image_std: std,
    });
    const planes = preprocessImage(img, rgb4, p, 'x.png');
    const input = modelInput(planes, rgb4, normalizationOf(p)) as Float32Array;
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 16; i++) {
        expect(planes[c * 16 + i]).toBe(data[i * 4 + c]);
        expect(input[c * 16 + i]).toBeCloseTo((data[i * 4 + c] / 255 - mean[c]) / std[c], 5);
      }
    // The engine's tensor path agrees with the values inspect takes.
    const t = pixelsToInput(rgb4, planes, 1, normalizationOf(p));
    const v = t.dataSync();
    t.dispose();
    for (let i = 0; i < 48; i++) expect(v[i]).toBeCloseTo(input[i], 5);
  });

  it("without preprocessor_config.json: ViTImageProcessor's defaults, the engine's default path", () => {
    const p = imageProcessor(rgb4);
    expect(p.size).toEqual({ height: 4, width: 4 });
    expect(normalizationOf(p)).toBeNull();
    const planes = Uint8Array.from({ length: 48 }, (_, i) => i * 5);
    expect(modelInput(planes, rgb4, null)).toBe(planes);
    const t = tf.tidy(() => pixelsToInput(rgb4, planes, 1));
    const v = t.dataSync();
    t.dispose();
    for (let i = 0; i < 48; i++) expect(v[i]).toBeCloseTo((planes[i] / 255 - 0.5) / 0.5, 6);
    // do_rescale and do_normalize off: the 8-bit values themselves.
    const raw = normalizationOf(imageProcessor(rgb4, { do_rescale: false, do_normalize: false }))!;
    expect(raw).toEqual({ scale: [1, 1, 1], offset: [0, 0, 0] });
  });

  it('grayscale is repeated over the channels; colour becomes luma for a one-channel model', () => {
    const gray = decodeImage(
      png(
        4,
        4,
        1,
        Array.from({ length: 16 }, (_, i) => i * 10),
      ),
      'g.png',
    );
    const planes = preprocessImage(gray, rgb4, imageProcessor(rgb4), 'g.png');
    for (let c = 0; c < 3; c++) for (let i = 0; i < 16; i++) expect(planes[c * 16 + i]).toBe(i * 10);
    const red = decodeImage(
      png(
        4,
        4,
        3,
        Array.from({ length: 48 }, (_, i) => [255, 0, 100][i % 3]),
      ),
      'r.png',
    );
    // PIL's L = (299 R + 587 G + 114 B) / 1000 = (76245 + 11400) / 1000 = 87.645 → 88
    expect(Array.from(preprocessImage(red, gray4, imageProcessor(gray4), 'r.png'))).toEqual(Array(16).fill(88));
  });

  it('bilinear resize as PIL computes it, up and down (antialiased)', () => {
    // 2 → 4 wide: output centres at 0.25, 0.75, 1.25, 1.75 input pixels → a, ¾a+¼b, ¼a+¾b, b.
    expect(Array.from(resizePlanes(Uint8Array.of(0, 200), 1, 1, 2, 1, 4))).toEqual([0, 50, 150, 200]);
    // 4 → 2: a triangle of support 2 input pixels; output 0 weighs pixels 0, 1, 2 by ¾, ¾, ¼.
    const down = resizePlanes(Uint8Array.of(0, 100, 200, 40), 1, 1, 4, 1, 2);
    expect(down[0]).toBe(Math.round((0 * 0.75 + 100 * 0.75 + 200 * 0.25) / 1.75)); // 71
    expect(down[1]).toBe(Math.round((100 * 0.25 + 200 * 0.75 + 40 * 0.75) / 1.75)); // 117
    // Through preprocessImage: a 2×2 gray PNG to the model's 4×4, rows then columns.
    const img = decodeImage(png(2, 2, 1, [0, 200, 200, 0]), 's.png');
    const planes = preprocessImage(img, gray4, imageProcessor(gray4), 's.png');
    expect(Array.from(planes.subarray(0, 4))).toEqual([0, 50, 150, 200]);
    expect(Array.from(planes.subarray(4, 8))).toEqual([50, 75, 125, 150]); // ¾·row0 + ¼·row1
  });

  it('shortest_edge resizes with the aspect kept, then centre-crops to the model size', () => {
    const p = imageProcessor(gray4, {
      size: { shortest_edge: 4 },
      do_center_crop: true,
      crop_size: { height: 4, width: 4 },
    });
    // 8 wide × 4 high: the short edge is already 4; the crop keeps columns 2..5.
    const data = Array.from({ length: 32 }, (_, i) => (i % 8) * 20);
    const planes = preprocessImage(decodeImage(png(8, 4, 1, data), 'w.png'), gray4, p, 'w.png');
    expect(Array.from(planes.subarray(0, 4))).toEqual([40, 60, 80, 100]);
    const noResize = imageProcessor(gray4, { do_resize: false });
    expect(() => preprocessImage(decodeImage(png(8, 4, 1, data), 'w.png'), gray4, noResize, 'w.png')).toThrow(
      'w.png is 8×4 after preprocessing; the model takes 4×4',
    );
  });

  it('decodes a JPEG (close to its colour: JPEG is lossy) and refuses what is neither', () => {
    const rgba = new Uint8Array(8 * 8 * 4);
    for (let i = 0; i < 64; i++) rgba.set([200, 100, 50, 255], i * 4);
    const file = jpeg.encode({ width: 8, height: 8, data: rgba }, 100).data;
    const img = decodeImage(new Uint8Array(file), 'c.jpg');
    const planes = preprocessImage(img, rgb4, imageProcessor(rgb4), 'c.jpg');
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 16; i++) expect(Math.abs(planes[c * 16 + i] - [200, 100, 50][c])).toBeLessThanOrEqual(3);
    // A gray JPEG reads as one channel, so it fits any channel count (the tiny ViT's 2).
    const grayRgba = new Uint8Array(64 * 4);
    for (let i = 0; i < 64; i++) grayRgba.set([90, 90, 90, 255], i * 4);
    const gray = decodeImage(new Uint8Array(jpeg.encode({ width: 8, height: 8, data: grayRgba }, 100).data), 'g.jpg');
    expect(gray.channels).toBe(1);
    const two = vit({ image_size: 8, patch_size: 4, num_channels: 2 });
    const twoPlanes = preprocessImage(gray, two, imageProcessor(two), 'g.jpg');
    expect(Math.abs(twoPlanes[0] - 90)).toBeLessThanOrEqual(2);
    expect(twoPlanes[64]).toBe(twoPlanes[0]);
    expect(() => decodeImage(new TextEncoder().encode('GIF89a'), 'n.gif')).toThrow('n.gif is neither a PNG nor a JPEG');
    expect(() => decodeImage(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0), 'bad.png')).toThrow(
      /bad\.png is not a readable PNG/,
    );
  });

  it('a folder set: classes by label (or its file-name form), an unknown one named', () => {
    expect(labelOfFolder(gray4.labels, 'T-shirt_top')).toBe('T-shirt/top');
    expect(labelOfFolder(gray4.labels, 'Bag')).toBe('Bag');
    expect(labelOfFolder(gray4.labels, 'bag')).toBeUndefined();
    const file = png(4, 4, 1, Array(16).fill(7));
    const set = imageFolderSet(
      [
        { label: 'Bag', name: 'Bag/1.png', bytes: file },
        { label: 'T-shirt/top', name: 'T-shirt_top/2.png', bytes: file },
      ],
      gray4,
      imageProcessor(gray4),
    );
    expect(set.count).toBe(2);
    expect(Array.from(set.labels)).toEqual([1, 0]);
    expect(set.shape).toEqual([1, 4, 4]);
    expect(set.normalization).toBeUndefined();
    expect(() =>
      imageFolderSet([{ label: 'Hat', name: 'Hat/1.png', bytes: file }], gray4, imageProcessor(gray4)),
    ).toThrow(/"Hat" is not one of the model's labels/);
  });
});
