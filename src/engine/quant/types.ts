// The shapes quantization speaks in: how a linear's weights are put on a grid (bits, groups,
// symmetry, GPTQ's act-order) and what a quantized linear is as stored (integer codes, a scale and
// a zero point per output row and group, the group of each input column).

/** How a linear's weights are quantized; the quantizer (RTN or GPTQ) is the recipe's choice. */
export interface QuantSettings {
  /** Bits per weight: 8, 4 or 3 on the page (2…8 in the engine). */
  bits: number;
  /** Input columns sharing one scale and zero point; 0: one per output row (per channel). */
  groupSize: number;
  /** A grid symmetric around 0 (zero point fixed at the middle code); else each group's own zero point. */
  symmetric: boolean;
  /** GPTQ's act-order: columns visited by decreasing Hessian diagonal (groups follow the visit order). */
  actOrder: boolean;
}

/** One linear after quantization, as [out, in] rows. */
export interface QuantizedLinear {
  /** The dequantized values, scale · (code − zero); pruned entries are exactly 0. */
  weights: Float32Array;
  /** The integer code of each weight, 0 … 2^bits − 1 (a pruned entry's code is its zero point's, rounded). */
  codes: Uint8Array;
  /** 0/1 per weight: 0 where pruned (its value is 0 whatever its code). */
  mask: Uint8Array;
  /** Scale per output row and group, [out, groups] row-major. */
  scales: Float32Array;
  /** Zero point per output row and group (an integer code), [out, groups] row-major. */
  zeros: Float32Array;
  /** The group of each input column, [in]; with act-order, groups follow the visit order. */
  groupIndex: Int32Array;
  /** Number of groups (1 per channel when groupSize is 0). */
  groups: number;
  bits: number;
  symmetric: boolean;
}
