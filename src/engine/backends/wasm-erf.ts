// TensorFlow.js's WASM Erf is a scalar loop: over a vit-fashion evaluation's FFN activations, 78 ms
// against this kernel's 30. Exact GELU's forward is a fused kernel of its own (wasm-fused.ts), but
// its gradient and any other erf call Erf. This kernel computes erf four lanes at a time
// (assembly/simd.ts, XLA's single-precision rational form), within 4e-7 of erf where the stock
// kernel is within 4.4e-8: exact GELU's ½x(1 + erf(x/√2)) moves by under 2e-7·|x|, well inside the
// rounding of the products around it; vit-fashion's accuracy is unchanged, 89.10%.
import * as tf from '@tensorflow/tfjs';
import { offsetOf, replaceWasmKernel, type WasmBackendInternals } from './wasm-backend';
import { simdKernelsOf } from './wasm-simd';

let installed = false;

export function installFastWasmErf(): void {
  if (installed) return;
  const stock = tf.getKernel('Erf', 'wasm');
  if (!stock) throw new Error('installFastWasmErf: the WASM backend is not registered');
  installed = true;
  replaceWasmKernel({
    kernelName: 'Erf',
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const backend = args.backend as WasmBackendInternals;
      const simd = simdKernelsOf(backend);
      const n = tf.util.sizeFromShape(x.shape);
      if (!simd || x.dtype !== 'float32' || n === 0) return stock.kernelFunc(args);
      const out = backend.makeOutput(x.shape, 'float32');
      simd.erf(offsetOf(backend, x), offsetOf(backend, out), n);
      return out;
    },
  });
}
