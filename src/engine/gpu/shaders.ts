// The WGSL sources of every kernel, each prefixed with the libraries it uses (WGSL has no includes).
// The `?raw` suffix is Vite's (vitest and the production build); `with { type: 'text' }` is
// esbuild's (the one-file Node bundle a GPU machine runs); tsx runs them through
// bench/lib/wgsl-text.mjs. All three read the same file as a string.
import keys from '../../shaders/lib/keys.wgsl?raw' with { type: 'text' };
import workgroup from '../../shaders/lib/workgroup.wgsl?raw' with { type: 'text' };
import countKey from '../../shaders/lib/count-key.wgsl?raw' with { type: 'text' };
import radix from '../../shaders/lib/radix.wgsl?raw' with { type: 'text' };
import rowSelect from '../../shaders/lib/row-select.wgsl?raw' with { type: 'text' };
import selection from '../../shaders/lib/selection.wgsl?raw' with { type: 'text' };
import radixHistogram from '../../shaders/radix-histogram.wgsl?raw' with { type: 'text' };
import radixPick from '../../shaders/radix-pick.wgsl?raw' with { type: 'text' };
import tieCount from '../../shaders/tie-count.wgsl?raw' with { type: 'text' };
import tieScan from '../../shaders/tie-scan.wgsl?raw' with { type: 'text' };
import thresholdMask from '../../shaders/threshold-mask.wgsl?raw' with { type: 'text' };
import rowTopK from '../../shaders/row-topk.wgsl?raw' with { type: 'text' };
import tokenTopK from '../../shaders/token-topk.wgsl?raw' with { type: 'text' };
import nmMask from '../../shaders/nm-mask.wgsl?raw' with { type: 'text' };
import nm24 from '../../shaders/lib/nm24.wgsl?raw' with { type: 'text' };
import nm24Matvec from '../../shaders/nm24-matvec.wgsl?raw' with { type: 'text' };
import nm24Matmul from '../../shaders/nm24-matmul.wgsl?raw' with { type: 'text' };
import laneSum from '../../shaders/lib/lane-sum.wgsl?raw' with { type: 'text' };
import csrMatvec from '../../shaders/csr-matvec.wgsl?raw' with { type: 'text' };
import csrMatmul from '../../shaders/csr-matmul.wgsl?raw' with { type: 'text' };
import tokenTile from '../../shaders/lib/token-tile.wgsl?raw' with { type: 'text' };
import denseMatvec from '../../shaders/dense-matvec.wgsl?raw' with { type: 'text' };

const globalLibs = [keys, workgroup, radix, selection];
const rowLibs = [keys, countKey, workgroup, radix, rowSelect];

/** Kernel name → its full WGSL module source (libraries first). */
export const SHADERS = {
  radixHistogram: [...globalLibs, radixHistogram],
  radixPick: [...globalLibs, radixPick],
  tieCount: [...globalLibs, countKey, tieCount],
  tieScan: [...globalLibs, tieScan],
  thresholdMask: [...globalLibs, countKey, thresholdMask],
  rowTopK: [...rowLibs, rowTopK],
  tokenTopK: [...rowLibs, tokenTopK],
  nmMask: [keys, nmMask],
  nm24Matvec: [workgroup, nm24, nm24Matvec],
  nm24Matmul: [workgroup, tokenTile, nm24, nm24Matmul],
  csrMatvec: [workgroup, laneSum, csrMatvec],
  csrMatmul: [workgroup, tokenTile, csrMatmul],
  denseMatvec: [workgroup, laneSum, denseMatvec],
} as const satisfies Record<string, readonly string[]>;

export type KernelName = keyof typeof SHADERS;
