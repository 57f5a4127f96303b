// Round to nearest (RTN): every weight put on its group's grid independently, no calibration data.
// The baseline GPTQ (Frantar, Ashkboos, Hoefler & Alistarh, "GPTQ: Accurate Post-Training
// Quantization for Generative Pre-trained Transformers", ICLR 2023, arXiv:2210.17323) is measured
// against; the grid is GPTQ's (see grid.ts).
import { checkSettings, dequant, findParams, groupCount, maxCode, quantCode } from './grid';
import type { QuantizedLinear, QuantSettings } from './types';

/**
 * Quantizes W ([out, inF] rows) to the nearest point of each group's grid: one scale and zero point
 * per row (groupSize 0) or per `groupSize` consecutive columns of a row. With a mask, pruned entries
 * (0) are exactly 0 with their group's zero point as code, and each group's params come from its
 * kept weights only (a group with no kept non-zero weight gets the [−1, 1] range).
 * `settings.actOrder` is ignored: RTN visits no columns in an order, so groups are consecutive
 * columns and `groupIndex[c]` is ⌊c / groupSize⌋.
 */
export function rtnQuantize(
  rows: Float32Array,
  out: number,
  inF: number,
  settings: QuantSettings,
  mask?: Uint8Array,
): QuantizedLinear {
  checkSettings(settings);
  if (rows.length !== out * inF) throw new Error(`rtn: ${rows.length} weights for ${out}×${inF}`);
  if (mask && mask.length !== rows.length) throw new Error(`rtn: mask of ${mask.length} for ${out}×${inF}`);
  for (let k = 0; k < rows.length; k++)
    if (!Number.isFinite(rows[k])) throw new Error(`rtn: weight ${k} is not finite (${rows[k]})`);
  const { bits, symmetric } = settings;
  const maxq = maxCode(bits);
  const size = settings.groupSize > 0 ? settings.groupSize : inF;
  const groups = groupCount(inF, settings.groupSize);
  const scales = new Float32Array(out * groups);
  const zeros = new Float32Array(out * groups);
  const groupIndex = new Int32Array(inF);
  for (let c = 0; c < inF; c++) groupIndex[c] = Math.floor(c / size);
  for (let g = 0; g < groups; g++)
    findParams(
      rows,
      out,
      inF,
      g * size,
      Math.min(inF, (g + 1) * size),
      maxq,
      symmetric,
      scales,
      zeros,
      groups,
      g,
      mask,
    );

  const weights = new Float32Array(out * inF);
  const codes = new Uint8Array(out * inF);
  const kept = new Uint8Array(out * inF);
  for (let r = 0; r < out; r++) {
    for (let c = 0; c < inF; c++) {
      const k = r * inF + c;
      const at = r * groups + groupIndex[c];
      const scale = scales[at];
      const zero = zeros[at];
      if (mask && !mask[k]) {
        codes[k] = zero;
        continue;
      }
      kept[k] = 1;
      const code = quantCode(rows[k], scale, zero, maxq);
      codes[k] = code;
      weights[k] = dequant(code, scale, zero);
    }
  }
  return { weights, codes, mask: kept, scales, zeros, groupIndex, groups, bits, symmetric };
}
