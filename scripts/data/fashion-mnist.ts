// Fashion-MNIST from Debian's dataset-fashion-mnist (gzipped IDX files).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ensureDebianPackage } from './debian';

const DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_LABELS = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export interface ImageSplit {
  images: Uint8Array; // [n, 28, 28], row-major
  labels: Uint8Array; // [n]
  count: number;
}

/** Parses an IDX file: magic (0, 0, type 0x08 = u8, rank), big-endian dims, then the data. */
function readIdx(path: string, rank: number): { dims: number[]; data: Uint8Array } {
  const buf = gunzipSync(readFileSync(path));
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08 || buf[3] !== rank)
    throw new Error(`${path}: not a u8 IDX file of rank ${rank}`);
  const dims = Array.from({ length: rank }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const start = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== start + size)
    throw new Error(`${path}: expected ${size} bytes of data, found ${buf.length - start}`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + start, size) };
}

export function loadFashionMnist(split: 'train' | 't10k'): ImageSplit {
  ensureDebianPackage('dataset-fashion-mnist', `${DIR}/${split}-images-idx3-ubyte.gz`);
  const images = readIdx(`${DIR}/${split}-images-idx3-ubyte.gz`, 3);
  const labels = readIdx(`${DIR}/${split}-labels-idx1-ubyte.gz`, 1);
  if (images.dims[0] !== labels.dims[0]) throw new Error('fashion-mnist: image and label counts differ');
  return { images: images.data, labels: labels.data, count: labels.dims[0] };
}
