import { rgb } from 'd3';
import { useEffect, useRef } from 'react';
import type { MaskImage as MaskData } from '../../workers/client';
import { formatInteger } from '../format';
import { KEPT_COLOR, REMOVED_COLOR } from '../layer-detail-format';
import { KeptRemovedItems } from './DetailHistogram';

/** The longest side of the drawn mask, in CSS pixels. */
const SIDE = 240;

/**
 * The weight matrix's mask as pixels: one row per output feature, one column per input feature
 * (or, for a large matrix, the share kept in each cell of a coarser grid), removed black.
 */
export function MaskImage({ mask, label }: { mask: MaskData; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    const kept = rgb(KEPT_COLOR);
    const removed = rgb(REMOVED_COLOR);
    const img = ctx.createImageData(mask.width, mask.height);
    mask.data.forEach((v, i) => {
      const f = v / 255;
      img.data[4 * i] = removed.r + f * (kept.r - removed.r);
      img.data[4 * i + 1] = removed.g + f * (kept.g - removed.g);
      img.data[4 * i + 2] = removed.b + f * (kept.b - removed.b);
      img.data[4 * i + 3] = 255;
    });
    ctx.putImageData(img, 0, 0);
  }, [mask]);
  const scale = SIDE / Math.max(mask.width, mask.height);
  const cellRows = mask.rows / mask.height;
  const cellCols = mask.cols / mask.width;
  const coarse = cellRows > 1 || cellCols > 1;
  return (
    <div className="mask-image">
      <div className="mask-axes">
        <span className="mask-axis-x">inputs 1 → {formatInteger(mask.cols)}</span>
        <span className="mask-axis-y">outputs 1 → {formatInteger(mask.rows)}</span>
        <canvas
          ref={canvas}
          width={mask.width}
          height={mask.height}
          style={{ width: mask.width * scale, height: mask.height * scale }}
          role="img"
          aria-label={label}
        />
      </div>
      <ul className="chart-legend" aria-label="Mask legend">
        <KeptRemovedItems />
        {coarse && (
          <li>
            <span
              className="swatch mask-ramp"
              style={{ background: `linear-gradient(to right, ${REMOVED_COLOR}, ${KEPT_COLOR})` }}
              aria-hidden="true"
            />
            share kept of each cell's{' '}
            {cellRows > 1 && cellCols > 1
              ? `${formatCellSide(cellRows)} × ${formatCellSide(cellCols)}`
              : cellRows > 1
                ? `${formatCellSide(cellRows)} rows`
                : `${formatCellSide(cellCols)} columns`}
          </li>
        )}
      </ul>
    </div>
  );
}

/** 2 → "2"; 1.5 → "1–2" (cells of a grid that does not divide the matrix evenly). */
function formatCellSide(n: number): string {
  return Number.isInteger(n) ? String(n) : `${Math.floor(n)}–${Math.ceil(n)}`;
}
