import { useEffect, useRef } from 'react';
import type { InspectedInput, InspectView, SaliencyScores } from '../../workers/client';
import { heatColor, heatInk, heatRgb } from '../heat';
import { strongest, tokenName } from '../inspect-format';
import { PixelImage } from './PixelImage';
import { tokenUnit } from '../format';

export type SaliencyMethod = 'gradient' | 'rollout';

export const SALIENCY_METHODS: { id: SaliencyMethod; label: string; description: string }[] = [
  {
    id: 'gradient',
    label: 'Gradient × input',
    description: '‖∂ logit / ∂ embedding ⊙ embedding‖ per token (Simonyan et al. 2014; Shrikumar et al. 2017)',
  },
  {
    id: 'rollout',
    label: 'Attention rollout',
    description: 'the product of the layers’ head-mean attention plus the residual (Abnar & Zuidema 2020)',
  },
];

const IMAGE_SCALE = 5;

/** What the model's prediction rests on: patches over the image, or bytes shaded, by one method. */
export function Saliency({
  view,
  input,
  method,
}: {
  view: InspectView;
  input: InspectedInput;
  method: SaliencyMethod;
}) {
  const scores = method === 'gradient' ? view.saliency.gradientTimesInput : view.saliency.rollout;
  const explained = targetName(view);
  if (!scores) {
    return (
      <p className="card-note saliency-missing">
        Gradient × input does not exist under token pruning: which tokens are kept depends on the input, and that choice
        has no gradient. Attention rollout is shown for it.
      </p>
    );
  }
  const tokens = view.attention.tokens;
  // ViT scores cover the patches (the CLS token, position 0, is what they explain).
  const offset = input.kind === 'image' ? 1 : 0;
  const top = strongest(scores.normalized, 3)
    .map((e) => `${tokenName(input, e.index + offset, tokens)} ${e.value.toFixed(2)}`)
    .join(', ');
  const summary = `Saliency for ${explained}; strongest: ${top}`;
  return (
    <div className="saliency">
      <p className="saliency-target">For {explained}</p>
      {input.kind === 'text' ? (
        <ShadedText input={input} scores={scores} summary={summary} />
      ) : (
        scores.grid && <PatchOverlay input={input} grid={scores.grid} summary={summary} />
      )}
    </div>
  );
}

function targetName(view: InspectView): string {
  const p = view.predictions;
  const target = view.saliency.target;
  if (p.kind === 'image-classifier') return `“${p.top.find((t) => t.index === target)?.label ?? `class ${target}`}”`;
  return `the next ${tokenUnit(p)} “${p.top.find((t) => t.id === target)?.display ?? target}”`;
}

function PatchOverlay({
  input,
  grid,
  summary,
}: {
  input: Extract<InspectedInput, { kind: 'image' }>;
  grid: number[][];
  summary: string;
}) {
  const overlay = useRef<HTMLCanvasElement>(null);
  const g = grid.length;
  useEffect(() => {
    const ctx = overlay.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(g, g);
    // Low saliency stays see-through, so the image shows where the model does not look.
    grid.flat().forEach((v, i) => {
      img.data.set([...heatRgb(v), Math.round(210 * v)], 4 * i);
    });
    ctx.putImageData(img, 0, 0);
  }, [grid, g]);
  const px = input.size * IMAGE_SCALE;
  return (
    <div className="patch-overlay" role="img" aria-label={summary} style={{ width: px, height: px }}>
      <PixelImage pixels={input.pixels} size={input.size} channels={input.channels} scale={IMAGE_SCALE} />
      <canvas ref={overlay} width={g} height={g} style={{ width: px, height: px }} />
    </div>
  );
}

function ShadedText({
  input,
  scores,
  summary,
}: {
  input: Extract<InspectedInput, { kind: 'text' }>;
  scores: SaliencyScores;
  summary: string;
}) {
  return (
    <p className="shaded-text" role="note" aria-label={summary}>
      {input.tokens.map((t, i) => {
        const v = scores.normalized[i] ?? 0;
        return (
          <span
            key={i}
            style={{ background: heatColor(v), color: heatInk(v) }}
            title={`${t.display} (#${i + 1}): ${v.toFixed(2)} of the strongest`}
          >
            {t.display === '↵' ? '↵\n' : t.display === '␣' ? ' ' : t.display}
          </span>
        );
      })}
    </p>
  );
}
