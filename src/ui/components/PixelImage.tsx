import { useEffect, useRef } from 'react';

/** Paints C×H×W bytes (1 channel: grey, 3: RGB) onto a canvas of the image's own size. */
export function paintPixels(
  canvas: HTMLCanvasElement,
  pixels: ArrayLike<number>,
  size: number,
  channels: number,
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(size, size);
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    for (let ch = 0; ch < 3; ch++) img.data[4 * i + ch] = pixels[(channels === 3 ? ch : 0) * plane + i];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** An image at `scale`× with square pixels; `label` is its text alternative (omit when a parent names it). */
export function PixelImage({
  pixels,
  size,
  channels,
  scale,
  label,
}: {
  pixels: Uint8Array;
  size: number;
  channels: number;
  scale: number;
  label?: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current) paintPixels(ref.current, pixels, size, channels);
  }, [pixels, size, channels]);
  return (
    <canvas
      ref={ref}
      className="pixel-image"
      width={size}
      height={size}
      style={{ width: size * scale, height: size * scale }}
      {...(label ? { role: 'img', 'aria-label': label } : { 'aria-hidden': true })}
    />
  );
}
