// The WASM backend's kernels this engine replaces with faster ones (see each module for why).
import { installFastWasmMatMul } from './wasm-matmul';
import { installFastWasmIndexing } from './wasm-indexing';
import { installFastWasmSum } from './wasm-reduce';
import { installFastWasmErf } from './wasm-erf';
import { installFusedWasmKernels } from './wasm-fused';

/** `threads`: what the backend computes on (1 unless the threaded build started), which sets the product kernel's per-call trade-off. */
export function installWasmKernels({ threads = 1 }: { threads?: number } = {}): void {
  installFastWasmMatMul({ threads });
  installFastWasmIndexing();
  installFastWasmSum();
  installFastWasmErf();
  installFusedWasmKernels({ threads });
}
