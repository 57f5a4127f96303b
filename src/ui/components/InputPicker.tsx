import { useEffect, useMemo, useRef, useState } from 'react';
import type { EvalInputs } from '../../workers/client';
import { MAX_INPUT_TEXT, parseInputCode, type InputChoice } from '../share';
import { DrawingPad } from './DrawingPad';
import { PixelImage } from './PixelImage';

/** Chooses what to inspect: an eval image or a drawing for an image model, text for a language model. */
export function InputPicker({
  inputs,
  code,
  onPick,
}: {
  inputs: EvalInputs;
  code: string;
  onPick: (choice: InputChoice) => void;
}) {
  const choice = useMemo(() => parseInputCode(code), [code]);
  return inputs.kind === 'images' ? (
    <ImagePicker inputs={inputs} choice={choice} onPick={onPick} />
  ) : (
    <TextPrompt inputs={inputs} choice={choice} onPick={onPick} />
  );
}

function ImagePicker({
  inputs,
  choice,
  onPick,
}: {
  inputs: Extract<EvalInputs, { kind: 'images' }>;
  choice: InputChoice;
  onPick: (c: InputChoice) => void;
}) {
  const selected = choice.kind === 'eval' ? choice.index : choice.kind === 'default' ? 0 : null;
  const drawn = choice.kind === 'drawn' ? choice.pixels : null;
  return (
    <div className="input-picker">
      <div className="thumbs-block">
        <p className="picker-caption" id="thumbs-caption">
          Test images
          {selected !== null && selected >= inputs.images.length
            ? ` · showing image ${selected + 1} of ${inputs.count.toLocaleString('en-US')}`
            : ''}
        </p>
        <ul className="thumbs" aria-labelledby="thumbs-caption">
          {inputs.images.map((img) => (
            <li key={img.index}>
              <button
                type="button"
                className="thumb"
                aria-pressed={selected === img.index}
                aria-label={`Test image ${img.index + 1}: ${img.label}`}
                title={img.label}
                onClick={() => onPick({ kind: 'eval', index: img.index })}
              >
                <PixelImage pixels={img.pixels} size={inputs.size} channels={inputs.channels} scale={2} />
              </button>
            </li>
          ))}
        </ul>
      </div>
      <DrawingPad initial={drawn} selected={drawn !== null} onDraw={(pixels) => onPick({ kind: 'drawn', pixels })} />
    </div>
  );
}

/** Re-inspects on Enter, or once typing pauses. */
function TextPrompt({
  inputs,
  choice,
  onPick,
}: {
  inputs: Extract<EvalInputs, { kind: 'text' }>;
  choice: InputChoice;
  onPick: (c: InputChoice) => void;
}) {
  const committed = choice.kind === 'text' ? choice.text : inputs.prompt;
  const [draft, setDraft] = useState(committed);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => setDraft(committed), [committed]);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  const max = Math.min(inputs.context, MAX_INPUT_TEXT);
  const commit = (text: string) => {
    if (timer.current) clearTimeout(timer.current);
    if (text && text !== committed) onPick({ kind: 'text', text });
  };
  return (
    <div className="text-prompt">
      <label htmlFor="inspect-text">Text for the model</label>
      <textarea
        id="inspect-text"
        rows={3}
        maxLength={max}
        value={draft}
        aria-describedby="inspect-text-note"
        onChange={(e) => {
          const text = e.target.value;
          setDraft(text);
          if (timer.current) clearTimeout(timer.current);
          timer.current = setTimeout(() => commit(text), 800);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            commit(draft);
          }
        }}
      />
      <p className="card-note" id="inspect-text-note">
        {new TextEncoder().encode(draft).length} of {inputs.context} bytes (the model’s context; it reads the last{' '}
        {inputs.context}). Enter inspects; Shift+Enter starts a new line.
        {!draft && ' Type some text to inspect.'}
      </p>
    </div>
  );
}
