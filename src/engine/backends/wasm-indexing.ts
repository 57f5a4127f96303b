// TensorFlow.js's WASM Slice (and SplitV, which slices) copies its whole input out of the WASM heap
// before taking the slice: splitting a block's fused q|k|v output three ways copied it three times
// and took a sixth of an evaluation. Its GatherV2 moves one element at a time: the token embedding
// of a batch took 9 ms. These kernels copy whole runs through views of the heap, made after the
// output is allocated (an allocation can grow the heap and detach older views).
import * as tf from '@tensorflow/tfjs';
import { replaceWasmKernel, type WasmBackend } from './wasm-backend';

let installed = false;

export function installFastWasmIndexing(): void {
  if (installed) return;
  const slice = tf.getKernel('Slice', 'wasm');
  const splitV = tf.getKernel('SplitV', 'wasm');
  const gather = tf.getKernel('GatherV2', 'wasm');
  if (!slice || !splitV || !gather) throw new Error('installFastWasmIndexing: the WASM backend is not registered');
  installed = true;
  replaceWasmKernel({
    kernelName: 'Slice',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') return slice.kernelFunc(args);
      const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      return sliceInto(args.backend as WasmBackend, x, b, s);
    },
  });
  replaceWasmKernel({
    kernelName: 'SplitV',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') return splitV.kernelFunc(args);
      const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
      const at = tf.util.parseAxisParam(axis, x.shape)[0]!;
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, at);
      const begin = x.shape.map(() => 0);
      return sizes.map((part) => {
        const size = x.shape.slice();
        size[at] = part;
        const out = sliceInto(args.backend as WasmBackend, x, begin.slice(), size);
        begin[at]! += part;
        return out;
      });
    },
  });
  replaceWasmKernel({
    kernelName: 'GatherV2',
    kernelFunc: (args) => {
      const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
      const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
      const at = tf.util.parseAxisParam(axis, x.shape)[0]!;
      if (x.dtype === 'string' || batchDims !== 0 || indices.dtype !== 'int32') return gather.kernelFunc(args);
      return gatherInto(args.backend as WasmBackend, x, indices, at);
    },
  });
}

/**
 * x gathered along `axis` by `indices` (any shape): for each position before the axis and each
 * index, one contiguous run of everything after the axis. An index out of range is refused, as
 * TensorFlow.js's kernel does.
 */
function gatherInto(backend: WasmBackend, x: tf.TensorInfo, indices: tf.TensorInfo, axis: number): tf.TensorInfo {
  const outer = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const dim = x.shape[axis]!;
  const run = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const out = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
  const idx = backend.typedArrayFromHeap(indices);
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (!(j >= 0 && j < dim)) {
      backend.disposeData(out.dataId);
      throw new Error(`GatherV2: the index value ${j} is not in [0, ${dim - 1}]`);
    }
  }
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < idx.length; i++) {
      const src = (o * dim + idx[i]!) * run;
      const dst = (o * idx.length + i) * run;
      if (run === 1) to[dst] = from[src]!;
      else to.set(from.subarray(src, src + run), dst);
    }
  }
  return out;
}

/** x[begin : begin + size] as a new tensor: contiguous runs of the innermost sliced extent copied. */
export function sliceInto(backend: WasmBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  // Both live in the backend's heap: each run is one copyWithin there, where a subarray per run
  // (thousands of 128-value runs when q|k|v are split) cost more than the copying.
  const heap = new (from.constructor as Float32ArrayConstructor)(from.buffer);
  const fromAt = from.byteOffset / from.BYTES_PER_ELEMENT;
  const toAt = to.byteOffset / to.BYTES_PER_ELEMENT;
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  // Trailing dimensions taken whole merge into one run.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === x.shape[inner]) inner--;
  const run = size.slice(inner).reduce((p, d) => p * d, 1);
  const outer = size.slice(0, inner);
  const count = outer.reduce((p, d) => p * d, 1);
  const at = new Array<number>(inner).fill(0);
  for (let r = 0; r < count; r++) {
    let offset = begin[inner]! * (strides[inner] ?? 1);
    for (let d = 0; d < inner; d++) offset += (begin[d]! + at[d]!) * strides[d]!;
    heap.copyWithin(toAt + r * run, fromAt + offset, fromAt + offset + run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++at[d]! < outer[d]!) break;
      at[d] = 0;
    }
  }
  return out;
}
