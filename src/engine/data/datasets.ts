// The small evaluation and calibration sets that ship beside each model, stored as safetensors:
// images → tensors "images" (U8 [n, H, W] or [n, C, H, W]) and "labels" (U8 [n]);
// text → tensor "bytes" (U8 [n]).
import { readSafetensorsFile } from '../io/safetensors';
import type { ImageNormalization } from '../model/preprocess';

export interface ImageSet {
  kind: 'images';
  /** [count, C, H, W] row-major, 0..255. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  shape: [number, number, number];
  /**
   * How a pixel becomes the model's input, per channel, when it is not ViTImageProcessor's
   * default (rescale 1/255, mean 0.5, std 0.5): a folder of images read for a model whose
   * preprocessor_config.json asks for another.
   */
  normalization?: ImageNormalization;
}

export interface TextSet {
  kind: 'text';
  bytes: Uint8Array;
}

export type DataSet = ImageSet | TextSet;

export class DataSetError extends Error {}

export function parseDataSet(bytes: Uint8Array, what = 'data set'): DataSet {
  const { tensors } = readSafetensorsFile(bytes, what);
  const text = tensors.get('bytes');
  if (text) {
    if (!(text.data instanceof Uint8Array) || text.shape.length !== 1)
      throw new DataSetError(`${what}: "bytes" must be U8 [n]`);
    return { kind: 'text', bytes: text.data };
  }
  const images = tensors.get('images');
  const labels = tensors.get('labels');
  if (!images || !labels) throw new DataSetError(`${what}: expected tensor "bytes", or tensors "images" and "labels"`);
  if (!(images.data instanceof Uint8Array) || !(labels.data instanceof Uint8Array)) {
    throw new DataSetError(`${what}: "images" and "labels" must be U8`);
  }
  const s = images.shape;
  if ((s.length !== 3 && s.length !== 4) || labels.shape.length !== 1 || labels.shape[0] !== s[0]) {
    throw new DataSetError(
      `${what}: "images" must be [n, H, W] or [n, C, H, W] and "labels" [n], got [${s}] and [${labels.shape}]`,
    );
  }
  const shape: [number, number, number] = s.length === 3 ? [1, s[1], s[2]] : [s[1], s[2], s[3]];
  return { kind: 'images', pixels: images.data, labels: labels.data, count: s[0], shape };
}
