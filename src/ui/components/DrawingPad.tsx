import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { DRAWN_SIZE } from '../share';
import { paintPixels } from './PixelImage';

const SCALE = 5;
/** Brush radius in pixels of the 28 × 28 image: about a Fashion-MNIST outline's width. */
const BRUSH = 1.3;

/** Paints a soft round dot (white on black, as the data set's images are) at (x, y), keeping the brighter value. */
function stamp(pixels: Uint8Array, x: number, y: number): void {
  for (let r = Math.floor(y - BRUSH - 1); r <= Math.ceil(y + BRUSH + 1); r++) {
    for (let c = Math.floor(x - BRUSH - 1); c <= Math.ceil(x + BRUSH + 1); c++) {
      if (r < 0 || c < 0 || r >= DRAWN_SIZE || c >= DRAWN_SIZE) continue;
      const d = Math.hypot(c + 0.5 - x, r + 0.5 - y);
      const v = Math.round(255 * Math.min(1, Math.max(0, BRUSH + 0.5 - d)));
      pixels[r * DRAWN_SIZE + c] = Math.max(pixels[r * DRAWN_SIZE + c], v);
    }
  }
}

/**
 * A 28 × 28 drawing pad: mouse, pen or touch; with the keyboard, arrows move the pen and Space
 * paints. Each finished stroke hands the image to `onDraw`.
 */
export function DrawingPad({
  initial,
  selected,
  onDraw,
}: {
  initial: Uint8Array | null;
  selected: boolean;
  onDraw: (pixels: Uint8Array) => void;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const pixels = useRef(new Uint8Array(DRAWN_SIZE * DRAWN_SIZE));
  const last = useRef<{ x: number; y: number } | null>(null);
  const keyTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [pen, setPen] = useState({ x: 14, y: 14 });
  const [focused, setFocused] = useState(false);

  const repaint = useCallback(() => canvas.current && paintPixels(canvas.current, pixels.current, DRAWN_SIZE, 1), []);

  // A drawn input from the link (or an earlier stroke) shows on the pad.
  useEffect(() => {
    if (initial) pixels.current = initial.slice();
    repaint();
  }, [initial, repaint]);
  useEffect(() => () => void (keyTimer.current && clearTimeout(keyTimer.current)), []);

  const at = (e: PointerEvent<HTMLCanvasElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    return {
      x: ((e.clientX - box.left) / box.width) * DRAWN_SIZE,
      y: ((e.clientY - box.top) / box.height) * DRAWN_SIZE,
    };
  };
  const strokeTo = (p: { x: number; y: number }) => {
    const from = last.current ?? p;
    const steps = Math.max(1, Math.ceil(Math.hypot(p.x - from.x, p.y - from.y) / 0.5));
    for (let i = 1; i <= steps; i++)
      stamp(pixels.current, from.x + ((p.x - from.x) * i) / steps, from.y + ((p.y - from.y) * i) / steps);
    last.current = p;
    repaint();
  };
  const finish = () => {
    if (!last.current) return;
    last.current = null;
    onDraw(pixels.current.slice());
  };

  const onKey = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const move: Record<string, [number, number]> = {
      ArrowLeft: [-1, 0],
      ArrowRight: [1, 0],
      ArrowUp: [0, -1],
      ArrowDown: [0, 1],
    };
    if (move[e.key]) {
      const [dx, dy] = move[e.key];
      setPen((p) => ({
        x: Math.min(DRAWN_SIZE - 1, Math.max(0, p.x + dx)),
        y: Math.min(DRAWN_SIZE - 1, Math.max(0, p.y + dy)),
      }));
    } else if (e.key === ' ' || e.key === 'Enter') {
      stamp(pixels.current, pen.x + 0.5, pen.y + 0.5);
      repaint();
      // A run of key presses is one stroke.
      if (keyTimer.current) clearTimeout(keyTimer.current);
      keyTimer.current = setTimeout(() => onDraw(pixels.current.slice()), 500);
    } else return;
    e.preventDefault();
  };

  const clear = () => {
    pixels.current.fill(0);
    repaint();
  };

  return (
    <div className={`drawing-pad${selected ? ' selected' : ''}`}>
      <div className="pad-frame" style={{ width: DRAWN_SIZE * SCALE, height: DRAWN_SIZE * SCALE }}>
        <canvas
          ref={canvas}
          width={DRAWN_SIZE}
          height={DRAWN_SIZE}
          tabIndex={0}
          role="img"
          aria-label={`Drawing pad, ${DRAWN_SIZE} by ${DRAWN_SIZE} pixels: draw with the mouse, a pen or a finger; with the keyboard, the arrow keys move the pen and Space paints`}
          style={{ width: DRAWN_SIZE * SCALE, height: DRAWN_SIZE * SCALE }}
          onPointerDown={(e) => {
            e.currentTarget.setPointerCapture(e.pointerId);
            last.current = null;
            strokeTo(at(e));
          }}
          onPointerMove={(e) => last.current && strokeTo(at(e))}
          onPointerUp={finish}
          onPointerCancel={finish}
          onKeyDown={onKey}
          onFocus={() => setFocused(true)}
          onBlur={() => setFocused(false)}
        />
        {focused && (
          <span
            className="pad-pen"
            style={{ left: pen.x * SCALE, top: pen.y * SCALE, width: SCALE, height: SCALE }}
            aria-hidden="true"
          />
        )}
      </div>
      <div className="pad-actions">
        <span className="pad-caption">{selected ? 'Your drawing (inspected)' : 'Draw an image'}</span>
        <button type="button" className="button small quiet" onClick={clear}>
          Clear
        </button>
      </div>
    </div>
  );
}
