// The user's own images as a ViT's evaluation or calibration set: PNG and JPEG files decoded with
// pure-JS decoders (fast-png, jpeg-js: no DOM, no native code, so the same code runs in the worker
// and in Node), brought to the model's channel count and size, and the rescale/normalisation the
// model's preprocessor_config.json asks for, as transformers' ViTImageProcessor does it.
import { decode as decodePng, convertIndexedToRgb } from 'fast-png';
import jpeg from 'jpeg-js';
import type { VitConfig } from '../model/config';
import type { ImageNormalization } from '../model/preprocess';
import { DataSetError, type ImageSet } from './datasets';

/** A decoded image: `channels` interleaved 8-bit samples per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
export interface RawImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** What preprocessor_config.json says, with ViTImageProcessor's defaults filled in. */
export interface ImageProcessor {
  doResize: boolean;
  /** Exact output size, or the shorter edge's length (aspect kept, then centre-cropped). */
  size: { height: number; width: number } | { shortestEdge: number };
  doCenterCrop: boolean;
  cropSize: { height: number; width: number } | null;
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: number[];
  imageStd: number[];
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];
const isPng = (b: Uint8Array) => PNG_SIGNATURE.every((x, i) => b[i] === x);
const isJpeg = (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8;

/** Whether a file name is one the image reader takes (other files in a class folder are an error). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/** Decodes a PNG or JPEG (told apart by their signatures, not the name); `name` is in every error. */
export function decodeImage(bytes: Uint8Array, name: string): RawImage {
  if (isPng(bytes)) {
    let png: ReturnType<typeof decodePng>;
    try {
      png = decodePng(bytes);
    } catch (e) {
      throw new DataSetError(`${name} is not a readable PNG: ${(e as Error).message}`);
    }
    if (png.palette) {
      const data = convertIndexedToRgb(png);
      const channels = data.length / (png.width * png.height);
      return { width: png.width, height: png.height, channels, data };
    }
    let data: Uint8Array;
    if (png.depth === 16) {
      // 16-bit samples to 8: PIL does the same before ViTImageProcessor sees an 8-bit image.
      data = Uint8Array.from(png.data, (v) => Math.round(v / 257));
    } else if (png.depth < 8) {
      // fast-png unpacks bit depths below 8 to one sample per byte; scale them to 0..255.
      const max = 2 ** png.depth - 1;
      data = Uint8Array.from(png.data, (v) => Math.round((v * 255) / max));
    } else {
      data = png.data instanceof Uint8Array ? png.data : Uint8Array.from(png.data);
    }
    return { width: png.width, height: png.height, channels: png.channels, data };
  }
  if (isJpeg(bytes)) {
    try {
      // RGBA output, alpha 255; the alpha is dropped below like any other.
      const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      // jpeg-js spreads a grayscale JPEG over R, G and B; read as gray, it fits a model of any
      // channel count, as PIL's mode L image would.
      const d = j.data;
      let gray = true;
      for (let i = 0; gray && i < d.length; i += 4) gray = d[i] === d[i + 1] && d[i] === d[i + 2];
      if (gray) return { width: j.width, height: j.height, channels: 1, data: d.filter((_, i) => i % 4 === 0) };
      return { width: j.width, height: j.height, channels: 4, data: d };
    } catch (e) {
      throw new DataSetError(`${name} is not a readable JPEG: ${(e as Error).message ?? e}`);
    }
  }
  throw new DataSetError(`${name} is neither a PNG nor a JPEG`);
}

const sizeOf = (v: unknown): { height: number; width: number } | { shortestEdge: number } | null => {
  if (typeof v === 'number') return { height: v, width: v };
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.height === 'number' && typeof o.width === 'number') return { height: o.height, width: o.width };
    if (typeof o.shortest_edge === 'number') return { shortestEdge: o.shortest_edge };
  }
  return null;
};

const perChannel = (v: unknown, channels: number, what: string): number[] => {
  const xs = Array.isArray(v) ? v : [v];
  if (!xs.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw new DataSetError(`preprocessor_config.json: ${what} must be a number or a list of numbers`);
  if (xs.length === 1) return Array(channels).fill(xs[0]);
  if (xs.length !== channels)
    throw new DataSetError(
      `preprocessor_config.json: ${what} has ${xs.length} values; the model has ${channels} channels`,
    );
  return xs as number[];
};

/**
 * The processor a preprocessor_config.json describes; absent (undefined), ViTImageProcessor's
 * defaults: resize to the model's image size (bilinear), rescale by 1/255, normalise with mean and
 * std 0.5 in every channel.
 */
export function imageProcessor(config: VitConfig, json?: unknown): ImageProcessor {
  const o = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
  const c = config.numChannels;
  const flag = (k: string, d: boolean) => (typeof o[k] === 'boolean' ? (o[k] as boolean) : d);
  const crop = sizeOf(o.crop_size);
  return {
    doResize: flag('do_resize', true),
    size: sizeOf(o.size) ?? { height: config.imageSize, width: config.imageSize },
    doCenterCrop: flag('do_center_crop', false),
    cropSize: crop && 'height' in crop ? crop : null,
    doRescale: flag('do_rescale', true),
    rescaleFactor: typeof o.rescale_factor === 'number' ? o.rescale_factor : 1 / 255,
    doNormalize: flag('do_normalize', true),
    imageMean: perChannel(o.image_mean ?? 0.5, c, 'image_mean'),
    imageStd: perChannel(o.image_std ?? 0.5, c, 'image_std'),
  };
}

/**
 * The affine map from an 8-bit sample to the model's input, per channel: (v · rescale − mean) / std.
 * Null when it is the engine's default (ViTImageProcessor's), so those sets take the path every
 * shipped set takes.
 */
export function normalizationOf(p: ImageProcessor): ImageNormalization | null {
  const r = p.doRescale ? p.rescaleFactor : 1;
  const scale = p.imageMean.map((_, c) => (p.doNormalize ? r / p.imageStd[c] : r));
  // + 0 turns a mean of 0's −0 into 0.
  const offset = p.imageMean.map((m, c) => (p.doNormalize ? -m / p.imageStd[c] : 0) + 0);
  const isDefault =
    p.doRescale &&
    Math.abs(p.rescaleFactor - 1 / 255) < 1e-12 &&
    p.doNormalize &&
    p.imageMean.every((m) => m === 0.5) &&
    p.imageStd.every((s) => s === 0.5);
  return isDefault ? null : { scale, offset };
}

/** ITU-R 601 luma with PIL's weights (Image.convert('L')). */
const luma = (r: number, g: number, b: number) => (r * 299 + g * 587 + b * 114) / 1000;

/**
 * The image as `channels` planes (C, H, W), 8-bit: alpha dropped (RGBA → RGB, as PIL's convert does),
 * grayscale repeated over the model's channels, colour reduced to luma for a one-channel model.
 */
export function toPlanes(img: RawImage, channels: number, name: string): Uint8Array {
  const { width: w, height: h, channels: k, data } = img;
  const n = w * h;
  const out = new Uint8Array(channels * n);
  const color = k >= 3;
  if (color && channels !== 1 && channels !== 3)
    throw new DataSetError(`${name} is a colour image; the model takes ${channels} channels`);
  for (let i = 0; i < n; i++) {
    const p = i * k;
    if (!color) {
      for (let c = 0; c < channels; c++) out[c * n + i] = data[p];
    } else if (channels === 1) {
      out[i] = Math.round(luma(data[p], data[p + 1], data[p + 2]));
    } else {
      for (let c = 0; c < 3; c++) out[c * n + i] = data[p + c];
    }
  }
  return out;
}

/** Triangle-filter weights of output pixels over input ones, as PIL's bilinear resample (antialiased when shrinking). */
function bilinearWeights(inSize: number, outSize: number): { start: number[]; weights: number[][] } {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const start: number[] = [];
  const weights: number[][] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    const ws: number[] = [];
    let sum = 0;
    for (let i = lo; i < hi; i++) {
      const x = (i - center + 0.5) / support;
      const wgt = Math.max(0, 1 - Math.abs(x));
      ws.push(wgt);
      sum += wgt;
    }
    start.push(lo);
    weights.push(ws.map((x) => (sum > 0 ? x / sum : 0)));
  }
  return { start, weights };
}

/** Bilinear resize of C planes, rounded to 8 bits after each pass as PIL does for 8-bit images. */
export function resizePlanes(planes: Uint8Array, c: number, h: number, w: number, oh: number, ow: number): Uint8Array {
  if (oh === h && ow === w) return planes;
  const xs = bilinearWeights(w, ow);
  const ys = bilinearWeights(h, oh);
  const mid = new Uint8Array(c * h * ow);
  const out = new Uint8Array(c * oh * ow);
  const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const row = ch * h * w + y * w;
      for (let x = 0; x < ow; x++) {
        let s = 0;
        const ws = xs.weights[x];
        for (let k = 0; k < ws.length; k++) s += ws[k] * planes[row + xs.start[x] + k];
        mid[ch * h * ow + y * ow + x] = clamp(s);
      }
    }
    for (let y = 0; y < oh; y++) {
      const ws = ys.weights[y];
      for (let x = 0; x < ow; x++) {
        let s = 0;
        for (let k = 0; k < ws.length; k++) s += ws[k] * mid[ch * h * ow + (ys.start[y] + k) * ow + x];
        out[ch * oh * ow + y * ow + x] = clamp(s);
      }
    }
  }
  return out;
}

function centerCrop(planes: Uint8Array, c: number, h: number, w: number, ch: number, cw: number): Uint8Array {
  if (ch > h || cw > w) return planes; // not reached: a crop larger than the image is refused by the size check
  const top = Math.floor((h - ch) / 2);
  const left = Math.floor((w - cw) / 2);
  const out = new Uint8Array(c * ch * cw);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < ch; y++)
      out.set(
        planes.subarray(k * h * w + (top + y) * w + left, k * h * w + (top + y) * w + left + cw),
        (k * ch + y) * cw,
      );
  return out;
}

/**
 * One image as the model's 8-bit planes [C, S, S], before rescaling and normalisation (which
 * `normalizationOf` gives): channels converted, resized as the processor says (exact size, or the
 * shorter edge then a centre crop), and checked against the model's image size.
 */
export function preprocessImage(img: RawImage, config: VitConfig, p: ImageProcessor, name: string): Uint8Array {
  const c = config.numChannels;
  let planes = toPlanes(img, c, name);
  let h = img.height;
  let w = img.width;
  if (p.doResize) {
    let oh: number;
    let ow: number;
    if ('shortestEdge' in p.size) {
      const s = p.size.shortestEdge;
      [oh, ow] = h <= w ? [s, Math.floor((s * w) / h)] : [Math.floor((s * h) / w), s];
    } else {
      [oh, ow] = [p.size.height, p.size.width];
    }
    planes = resizePlanes(planes, c, h, w, oh, ow);
    [h, w] = [oh, ow];
  }
  const crop = p.doCenterCrop ? (p.cropSize ?? { height: config.imageSize, width: config.imageSize }) : null;
  if ((crop || 'shortestEdge' in p.size) && h >= config.imageSize && w >= config.imageSize) {
    const [ch, cw] = crop ? [crop.height, crop.width] : [config.imageSize, config.imageSize];
    if (ch <= h && cw <= w) {
      planes = centerCrop(planes, c, h, w, ch, cw);
      [h, w] = [ch, cw];
    }
  }
  if (h !== config.imageSize || w !== config.imageSize)
    throw new DataSetError(
      `${name} is ${w}×${h} after preprocessing; the model takes ${config.imageSize}×${config.imageSize}`,
    );
  return planes;
}

/** A label as a folder name: the characters no file name can hold (/, \\, :, *, ?, ", <, >, |) become _. */
export const folderNameOf = (label: string) => label.replace(/[/\\:*?"<>|]/g, '_');

/**
 * The class a folder stands for: the label it is named by, or whose folder name it is
 * ("T-shirt_top" for "T-shirt/top"); undefined when none.
 */
export function labelOfFolder(labels: readonly string[], folder: string): string | undefined {
  return labels.find((l) => l === folder) ?? labels.find((l) => folderNameOf(l) === folder);
}

/** One image file of a labelled folder set. */
export interface LabelledImage {
  /** The class folder's name: one of the model's labels. */
  label: string;
  /** Where it came from, for messages (a path or a file name). */
  name: string;
  bytes: Uint8Array;
}

/**
 * A labelled image set from files grouped by class name: each decoded and preprocessed for the
 * model. A class name that is not one of the model's labels is refused, naming it.
 */
export function imageFolderSet(files: readonly LabelledImage[], config: VitConfig, p: ImageProcessor): ImageSet {
  const index = new Map(config.labels.map((l, i) => [l, i]));
  if (config.labels.length > 256)
    throw new DataSetError(`the model has ${config.labels.length} classes; image sets hold at most 256`);
  const per = config.numChannels * config.imageSize ** 2;
  const pixels = new Uint8Array(files.length * per);
  const labels = new Uint8Array(files.length);
  files.forEach((f, i) => {
    const label = index.get(f.label);
    if (label === undefined)
      throw new DataSetError(
        `"${f.label}" is not one of the model's labels (${config.labels.slice(0, 12).join(', ')}${config.labels.length > 12 ? ', …' : ''})`,
      );
    pixels.set(preprocessImage(decodeImage(f.bytes, f.name), config, p, f.name), i * per);
    labels[i] = label;
  });
  const normalization = normalizationOf(p);
  return {
    kind: 'images',
    pixels,
    labels,
    count: files.length,
    shape: [config.numChannels, config.imageSize, config.imageSize],
    ...(normalization ? { normalization } : {}),
  };
}

/**
 * One preprocessed image as the engine's inspect functions take it: the 8-bit planes under the
 * default normalisation (which they apply), else the normalised values themselves.
 */
export function modelInput(
  planes: Uint8Array,
  config: VitConfig,
  normalization: ImageNormalization | null,
): Uint8Array | Float32Array {
  if (!normalization) return planes;
  const per = config.imageSize ** 2;
  return Float32Array.from(planes, (v, i) => {
    const c = Math.floor(i / per);
    return v * normalization.scale[c] + normalization.offset[c];
  });
}
