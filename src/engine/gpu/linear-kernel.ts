// A linear layer's weight on the GPU in one storage format, and the product the forward pass needs
// from it: y = x · Wᵀ for W [rows = out features, cols = in features] (the [out, in] "rows" view of
// pruning/layout.ts). Formats: 'dense' (our own matrix-vector kernel), 'csr' (unstructured sparse),
// 'nm24' (2:4-compressed). The forward pass picks one per layer by measuring (sparse-linears.ts).
export type LinearFormat = 'dense' | 'csr' | 'nm24';

export interface LinearKernel {
  readonly format: LinearFormat;
  /** Output features (rows of W). */
  readonly rows: number;
  /** Input features (columns of W). */
  readonly cols: number;
  /** Bytes the weight takes on the GPU in this format (values, indices, row pointers). */
  readonly bytes: number;
  /** Whether encode() handles n tokens (our dense kernel is matrix-vector only: n = 1). */
  supports(n: number): boolean;
  /**
   * Records y = x · Wᵀ into `pass` for n tokens. `xT` holds Xᵀ, [cols, n] row-major (for n = 1 that
   * is just x); `y` receives [n, rows] row-major, every entry written. Buffers are f32 storage
   * buffers of at least those sizes; the kernel keeps no reference to them after the call.
   */
  encode(pass: GPUComputePassEncoder, xT: GPUBuffer, y: GPUBuffer, n: number): void;
  /** Frees the weight's buffers and anything else this kernel made. */
  destroy(): void;
}
