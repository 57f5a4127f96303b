import { useEffect, useRef, useState, type MouseEvent } from 'react';
import type { AttentionMaps, HeadAttention, InspectedInput, LayerAttention } from '../../workers/client';
import { attentionShade, heatRgb } from '../heat';
import { queryKey, strongest, tokenName } from '../inspect-format';

export interface HeadRef {
  layer: number;
  head: number;
}

/** Original input position of a layer's token `i` (token pruning keeps a subset). */
export const positionOf = (layer: LayerAttention, i: number) => layer.positions?.[i] ?? i;

/** The strongest attention of one head, in words. */
export function strongestInWords(
  layer: LayerAttention,
  head: HeadAttention,
  input: InspectedInput,
  tokens: number,
): string {
  if (!head.map) return 'no attention computed';
  const [top] = strongest(head.map, 1);
  const { query, key } = queryKey(top.index, layer.tokens);
  return `strongest attention ${tokenName(input, positionOf(layer, query), tokens)} → ${tokenName(input, positionOf(layer, key), tokens)}, ${top.value.toFixed(2)}`;
}

/**
 * One model's attention: a layer × head grid of query × key heat maps. Removed heads are hatched
 * and labelled; a removed attention sublayer spans its row. Hovering shows query, key and weight;
 * each map is a button that selects its head for the values table.
 */
export function AttentionGrid({
  title,
  maps,
  input,
  selected,
  onSelect,
  group = 1,
}: {
  title: string;
  maps: AttentionMaps;
  input: InspectedInput;
  selected: HeadRef | null;
  onSelect: (h: HeadRef) => void;
  /** Query heads per key/value head (grouped-query attention); 1 without. */
  group?: number;
}) {
  const [tip, setTip] = useState<{ x: number; y: number; text: string } | null>(null);
  const heads = Math.max(1, ...maps.layers.map((l) => l.heads.length));
  return (
    <figure className="attention-grid" aria-label={`Attention maps, ${title}`} onMouseLeave={() => setTip(null)}>
      <div className="att-rows" style={{ gridTemplateColumns: `auto repeat(${heads}, minmax(0, 1fr))` }}>
        <span />
        {Array.from({ length: heads }, (_, h) => (
          <span key={h} className="att-col-label">
            Head {h + 1}
            {group > 1 && (
              <span
                className="att-kv-label"
                title={`Heads ${Math.floor(h / group) * group + 1}–${(Math.floor(h / group) + 1) * group} share key/value head ${Math.floor(h / group) + 1}`}
              >
                {' '}
                · KV {Math.floor(h / group) + 1}
              </span>
            )}
          </span>
        ))}
        {maps.layers.map((layer) => (
          <Row
            key={layer.layer}
            layer={layer}
            heads={heads}
            maps={maps}
            input={input}
            selected={selected}
            onSelect={onSelect}
            onTip={setTip}
          />
        ))}
      </div>
      {tip && (
        <div className="heat-tip" style={{ left: tip.x, top: tip.y }} aria-hidden="true">
          {tip.text}
        </div>
      )}
    </figure>
  );
}

type TipFn = (tip: { x: number; y: number; text: string } | null) => void;

function Row({
  layer,
  heads,
  maps,
  input,
  selected,
  onSelect,
  onTip,
}: {
  layer: LayerAttention;
  heads: number;
  maps: AttentionMaps;
  input: InspectedInput;
  selected: HeadRef | null;
  onSelect: (h: HeadRef) => void;
  onTip: TipFn;
}) {
  const label = `Layer ${layer.layer + 1}`;
  return (
    <>
      <span className="att-row-label">
        {label}
        {layer.positions && <span className="att-tokens">{layer.tokens} tokens</span>}
      </span>
      {layer.attentionRemoved || layer.heads.every((h) => !h.map) ? (
        <div
          className="att-removed att-sublayer"
          style={{ gridColumn: `span ${heads}` }}
          role="img"
          aria-label={`${label}: attention sublayer removed`}
        >
          attention sublayer removed
        </div>
      ) : (
        layer.heads.map((head) => (
          <HeadMap
            key={head.head}
            layer={layer}
            head={head}
            maps={maps}
            input={input}
            selected={selected?.layer === layer.layer && selected.head === head.head}
            onSelect={onSelect}
            onTip={onTip}
          />
        ))
      )}
    </>
  );
}

function HeadMap({
  layer,
  head,
  maps,
  input,
  selected,
  onSelect,
  onTip,
}: {
  layer: LayerAttention;
  head: HeadAttention;
  maps: AttentionMaps;
  input: InspectedInput;
  selected: boolean;
  onSelect: (h: HeadRef) => void;
  onTip: TipFn;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const t = layer.tokens;
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || !head.map) return;
    const img = ctx.createImageData(t, t);
    const px = img.data;
    head.map.forEach((w, i) => {
      const [r, g, b] = heatRgb(attentionShade(w));
      px[4 * i] = r;
      px[4 * i + 1] = g;
      px[4 * i + 2] = b;
      px[4 * i + 3] = 255;
    });
    ctx.putImageData(img, 0, 0);
  }, [head.map, t]);

  const name = `Layer ${layer.layer + 1}, head ${head.head + 1}`;
  const words = `${name}${head.removed ? ' (removed)' : ''}: ${strongestInWords(layer, head, input, maps.tokens)}`;
  const hover = (e: MouseEvent<HTMLCanvasElement>) => {
    if (!head.map) return;
    const box = e.currentTarget.getBoundingClientRect();
    const k = Math.min(t - 1, Math.floor(((e.clientX - box.left) / box.width) * t));
    const q = Math.min(t - 1, Math.floor(((e.clientY - box.top) / box.height) * t));
    const figure = e.currentTarget.closest('figure')!.getBoundingClientRect();
    onTip({
      x: e.clientX - figure.left + 12,
      y: e.clientY - figure.top + 12,
      text: `${name}${head.removed ? ' (removed)' : ''} · query ${tokenName(input, positionOf(layer, q), maps.tokens)} → key ${tokenName(input, positionOf(layer, k), maps.tokens)}: ${head.map[q * t + k].toFixed(3)}`,
    });
  };
  return (
    <button
      type="button"
      className={`att-cell${head.removed ? ' att-head-removed' : ''}`}
      aria-pressed={selected}
      aria-label={words}
      onClick={() => onSelect({ layer: layer.layer, head: head.head })}
    >
      <canvas ref={canvas} width={t} height={t} onMouseMove={hover} onMouseLeave={() => onTip(null)} />
      {head.removed && <span className="att-removed-label">removed</span>}
    </button>
  );
}

/** Rows of the values table. */
const TABLE_ROWS = 10;

/** The selected head's strongest weights in the dense model, and the same query → key after pruning. */
export function AttentionTable({
  at,
  dense,
  pruned,
  input,
}: {
  at: HeadRef;
  dense: AttentionMaps;
  pruned: AttentionMaps | null;
  input: InspectedInput;
}) {
  const layer = dense.layers[at.layer];
  const head = layer?.heads[at.head];
  if (!head?.map) return null;
  const after = pruned?.layers[at.layer];
  const afterHead = after?.heads[at.head];
  const afterValue = (q: number, k: number): string => {
    if (!after || !afterHead) return '—';
    if (!afterHead.map) return 'sublayer removed';
    const qi = after.positions ? after.positions.indexOf(q) : q;
    const ki = after.positions ? after.positions.indexOf(k) : k;
    if (qi < 0 || ki < 0) return 'token dropped';
    return `${afterHead.map[qi * after.tokens + ki].toFixed(3)}${afterHead.removed ? ' (head removed)' : ''}`;
  };
  return (
    <table className="att-table">
      <caption>
        Strongest attention of layer {at.layer + 1}, head {at.head + 1} (dense model)
        {pruned ? ', and the same query → key after pruning' : ''}
      </caption>
      <thead>
        <tr>
          <th scope="col">Query</th>
          <th scope="col">Key</th>
          <th scope="col">Dense</th>
          {pruned && <th scope="col">Pruned</th>}
        </tr>
      </thead>
      <tbody>
        {strongest(head.map, TABLE_ROWS).map((e) => {
          const { query, key } = queryKey(e.index, layer.tokens);
          const [q, k] = [positionOf(layer, query), positionOf(layer, key)];
          return (
            <tr key={e.index}>
              <td>{tokenName(input, q, dense.tokens)}</td>
              <td>{tokenName(input, k, dense.tokens)}</td>
              <td>{e.value.toFixed(3)}</td>
              {pruned && <td>{afterValue(q, k)}</td>}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
