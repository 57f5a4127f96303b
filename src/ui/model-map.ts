// What the model map draws, derived from a ModelSummary: a row for the embeddings, one per block
// (attention heads + FFN as cells) and one for the output head, each with its parameters and share
// of the FLOPs; then, from the worker's answers, each head's and FFN's importance and the share of
// it a configuration prunes, and each block's measured facts. Pure data: the view only picks
// colours and words from it.
import type { MapImportance, ModelSummary, PrunedShares } from '../workers/client';
import { formatFlops, formatPercent } from './format';
import type { BlockFact } from './layer-sparsity';

/** What the cells are coloured by. */
export type MapColour = 'flops' | 'importance' | 'pruned';

export type CellKind = 'embedding' | 'head' | 'ffn' | 'output';

export interface MapCell {
  id: string;
  kind: CellKind;
  /** Short visible name: "H1", "FFN", "Patches". */
  label: string;
  /** Its size, visible under the label: "16 d", "256". */
  size: string;
  /** The full description, for assistive technology and tooltips. */
  description: string;
  flops: number;
  /** Share of the whole model's FLOPs per example, 0..1. */
  share: number;
  /** Its importance score, and that score over the largest of its kind (heads with heads, FFNs with FFNs); null: not scored. */
  importance: { score: number; relative: number } | null;
  /** Share of its weights pruned, 0..1; null while no pruned configuration is shown. */
  pruned: number | null;
  /** A query head's key/value group under grouped-query attention (absent without). */
  group?: number;
}

export interface MapRow {
  id: string;
  kind: 'input' | 'block' | 'output';
  title: string;
  /** Block index (0-based) for blocks, null for the ends. */
  layer: number | null;
  params: number;
  /** Shown instead of the parameter count when it needs explaining ("tied to embeddings"). */
  paramsNote?: string;
  flops: number;
  share: number;
  /** What the measured configuration's masks removed from the block; null for the ends and while nothing is measured. */
  pruned: BlockFact | null;
  cells: MapCell[];
}

export interface ModelMapData {
  rows: MapRow[];
  /** Parameters in layer norms (and anything else outside the rows). */
  otherParams: number;
  totalFlops: number;
  totalParams: number;
  /** The largest share of any cell: the top of the colour scale. */
  maxCellShare: number;
}

export function modelMapData(s: ModelSummary): ModelMapData {
  const { cost } = s;
  const total = cost.flops || 1;
  const d = s.hidden;
  const dh = s.headDim;
  const rows: MapRow[] = [];

  // ---- input: embeddings ----
  const patch = cost.linears.find((l) => l.role === 'patch');
  const inputCells: MapCell[] = [];
  let inputParams: number;
  let inputFlops: number;
  if (s.kind === 'vit') {
    const patches = s.sequence - 1;
    const pixels = patch?.params ? (patch.params - d) / d : 0;
    inputParams = (patch?.params ?? 0) + s.sequence * d + d;
    inputFlops = patch?.flops ?? 0;
    inputCells.push(
      cell(
        'patches',
        'embedding',
        'Patches',
        `${patches} × ${pixels} → ${d}`,
        `Patch embedding: ${patches} patches of ${pixels} pixels, each projected to width ${d}`,
        inputFlops,
        total,
      ),
      cell(
        'positions',
        'embedding',
        'Positions',
        `${s.sequence} × ${d}`,
        `CLS token and ${s.sequence} position embeddings of width ${d}`,
        0,
        total,
      ),
    );
  } else {
    const vocab = s.vocabSize ?? 0;
    const rotary = s.positions === 'rotary';
    inputParams = vocab * d + (rotary ? 0 : s.sequence * d);
    inputFlops = 0;
    inputCells.push(
      cell(
        'tokens',
        'embedding',
        'Tokens',
        `${vocab} × ${d}`,
        `Token embeddings: ${vocab} tokens of width ${d}`,
        0,
        total,
      ),
    );
    if (!rotary)
      inputCells.push(
        cell(
          'positions',
          'embedding',
          'Positions',
          `${s.sequence} × ${d}`,
          `Position embeddings: ${s.sequence} positions of width ${d}`,
          0,
          total,
        ),
      );
  }
  rows.push({
    id: 'input',
    kind: 'input',
    title: 'Embeddings',
    layer: null,
    params: inputParams,
    flops: inputFlops,
    share: inputFlops / total,
    pruned: null,
    cells: inputCells,
  });

  // ---- blocks ----
  for (const b of cost.blocks) {
    const n = b.layer + 1;
    const perHead = b.attentionFlops / s.heads;
    const groupSize = s.heads / s.kvHeads;
    const cells: MapCell[] = Array.from({ length: s.heads }, (_, h) => {
      const g = Math.floor(h / groupSize);
      const shared =
        groupSize > 1
          ? `; key/value head ${g + 1} of ${s.kvHeads}, shared with heads ${groupSize * g + 1}–${groupSize * (g + 1)} (it goes only with all of them)`
          : '';
      const c = cell(
        `b${b.layer}-h${h}`,
        'head',
        `H${h + 1}`,
        `${dh} d`,
        `Block ${n}, attention head ${h + 1}: ${dh} dimensions${shared}`,
        perHead,
        total,
      );
      return groupSize > 1 ? { ...c, group: g } : c;
    });
    cells.push(
      cell(
        `b${b.layer}-ffn`,
        'ffn',
        'FFN',
        `${s.ffn}`,
        `Block ${n}, feed-forward network: ${d} → ${s.ffn} → ${d}`,
        b.mlpFlops,
        total,
      ),
    );
    rows.push({
      id: `block-${b.layer}`,
      kind: 'block',
      title: `Block ${n}`,
      layer: b.layer,
      params: b.params,
      flops: b.flops,
      share: b.flops / total,
      pruned: null,
      cells,
    });
  }

  // ---- output ----
  const blockFlops = cost.blocks.reduce((a, b) => a + b.flops, 0);
  const outputFlops = Math.max(0, cost.flops - blockFlops - inputFlops);
  const classifier = cost.linears.find((l) => l.role === 'classifier');
  const outputParams = classifier?.params ?? (s.tiedHead === false ? (s.vocabSize ?? 0) * d : 0);
  const outCell =
    s.kind === 'vit'
      ? cell(
          'classifier',
          'output',
          'Classifier',
          `${d} → ${s.labels?.length ?? 0}`,
          `Classifier: width ${d} to ${s.labels?.length ?? 0} classes, read from the CLS token`,
          outputFlops,
          total,
        )
      : cell(
          'lm-head',
          'output',
          'LM head',
          `${d} → ${s.vocabSize ?? 0}`,
          `Language-model head: width ${d} to ${s.vocabSize ?? 0} tokens at every position${s.tiedHead ? ', sharing the token embeddings' : ''}`,
          outputFlops,
          total,
        );
  rows.push({
    id: 'output',
    kind: 'output',
    title: s.kind === 'vit' ? 'Classifier' : 'LM head',
    layer: null,
    params: outputParams,
    paramsNote: s.tiedHead ? 'tied to embeddings' : undefined,
    flops: outputFlops,
    share: outputFlops / total,
    pruned: null,
    cells: [outCell],
  });

  const counted = rows.reduce((a, r) => a + r.params, 0);
  const maxCellShare = Math.max(...rows.flatMap((r) => r.cells.map((c) => c.share)), 1e-9);
  return {
    rows,
    otherParams: Math.max(0, cost.params - counted),
    totalFlops: cost.flops,
    totalParams: cost.params,
    maxCellShare,
  };
}

function cell(
  id: string,
  kind: CellKind,
  label: string,
  size: string,
  description: string,
  flops: number,
  total: number,
): MapCell {
  return { id, kind, label, size, description, flops, share: flops / total, importance: null, pruned: null };
}

/** Which block and unit a cell is: head h of block l, the FFN of block l, or neither. */
function unitOf(row: MapRow, c: MapCell): { layer: number; head: number | null } | null {
  if (row.layer === null || (c.kind !== 'head' && c.kind !== 'ffn')) return null;
  return { layer: row.layer, head: c.kind === 'head' ? row.cells.filter((x) => x.kind === 'head').indexOf(c) : null };
}

/**
 * The map with the worker's answers laid on it: importance on heads and FFNs (each relative to the
 * largest of its kind: a head's output norm and an FFN's neuron scores are not on one scale), the
 * pruned shares of heads and FFNs (the embeddings and the output head are never pruned), and each
 * block's facts from the measured report.
 */
export function overlayMap(
  data: ModelMapData,
  importance: MapImportance | null,
  pruned: PrunedShares | null,
  blocks: BlockFact[] | null,
): ModelMapData {
  const maxHead = importance ? Math.max(...importance.heads.flat(), 0) : 0;
  const maxFfn = importance ? Math.max(...importance.ffn, 0) : 0;
  const rows = data.rows.map(
    (row): MapRow => ({
      ...row,
      pruned: blocks && row.layer !== null ? (blocks[row.layer] ?? null) : null,
      cells: row.cells.map((c): MapCell => {
        const unit = unitOf(row, c);
        if (!unit) return { ...c, importance: null, pruned: pruned ? 0 : null };
        const score = importance
          ? unit.head === null
            ? importance.ffn[unit.layer]
            : importance.heads[unit.layer][unit.head]
          : null;
        const max = unit.head === null ? maxFfn : maxHead;
        return {
          ...c,
          importance: score === null ? null : { score, relative: max > 0 ? score / max : 0 },
          pruned: pruned ? (unit.head === null ? pruned.ffn[unit.layer] : pruned.heads[unit.layer][unit.head]) : null,
        };
      }),
    }),
  );
  return { ...data, rows };
}

/** The value a cell is coloured by: FLOPs share, relative importance (null: not scored) or pruned share. */
export function colourValue(c: MapCell, mode: MapColour): number | null {
  if (mode === 'flops') return c.share;
  if (mode === 'importance') return c.importance?.relative ?? null;
  return c.pruned ?? 0;
}

/** Everything known about a cell, in words: its tooltip and what assistive technology reads. */
export function cellTip(c: MapCell): string {
  const parts = [
    `${c.description}.`,
    `${formatFlops(c.flops)} per example, ${formatPercent(c.share)} of the model's FLOPs.`,
  ];
  if (c.importance) {
    const what = c.kind === 'head' ? 'head output norm' : 'sum of neuron scores';
    parts.push(
      `Importance: ${what} ${c.importance.score.toPrecision(3)}, ${formatPercent(c.importance.relative, 0)} of the largest ${c.kind === 'head' ? 'head' : 'FFN'}'s.`,
    );
  }
  if (c.pruned !== null)
    parts.push(c.kind === 'head' || c.kind === 'ffn' ? `${formatPercent(c.pruned)} pruned.` : 'Never pruned.');
  return parts.join(' ');
}
