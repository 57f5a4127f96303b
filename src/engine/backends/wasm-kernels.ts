// The WASM backend's kernels this engine replaces with faster ones (see each module for why).
import { installFastWasmMatMul } from './wasm-matmul';
import { installFastWasmIndexing } from './wasm-indexing';

export function installWasmKernels(): void {
  installFastWasmMatMul();
  installFastWasmIndexing();
}
