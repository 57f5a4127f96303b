// The catalogue of everything the workbench can do to a model: pruning methods, granularities,
// structured scores, layer-wise allocations, scopes, calibration sources and modes. Each entry is
// one place that says what it is called, which paper it comes from, what of that paper it
// implements, what it needs and what it can be combined with. The CLI's parser and help, the
// page's controls and tooltips, the share link's validation and the worker's jobs all read it, and
// `refusal` below is the one place where a combination that cannot be honoured is refused.
//
// Plain data and pure functions only: the page imports this module directly, so it must never
// pull in TensorFlow.js.

/** A paper as the entries cite it: year and venue of the peer-reviewed version where there is one. */
export interface Paper {
  authors: readonly string[];
  title: string;
  year: number;
  /** "ICLR", "NeurIPS", …, or "arXiv" for a preprint. */
  venue: string;
  arxiv: string;
}

/**
 * What a model does, which decides what a method can do to it (token scores, calibration defaults):
 * every causal language model (GPT-2, the Llama family) is one family, image classifiers (ViT) the
 * other.
 */
export type Family = 'causal-lm' | 'image-classifier';

/** Each family in words, for messages and help. */
export const FAMILY_NAMES: Record<Family, string> = {
  'causal-lm': 'language models',
  'image-classifier': 'image models',
};
export const FAMILIES = Object.keys(FAMILY_NAMES) as Family[];

/** The family of an architecture (ModelConfig['kind']). */
export const familyOf = (kind: 'gpt2' | 'llama' | 'vit'): Family => (kind === 'vit' ? 'image-classifier' : 'causal-lm');

export interface Needs {
  /** Reads calibration data (activations, gradients or outputs on sample inputs). */
  calibration: boolean;
  /** Needs a backward pass on the calibration data. */
  gradients: boolean;
}

/** What every entry has. */
interface Entry<Id extends string> {
  id: Id;
  /** What the page and the CLI's help call it. */
  label: string;
  /** One sentence for a tooltip: what it does. */
  summary: string;
  /** The paper it comes from; null for a plain baseline no paper defines. */
  paper: Paper | null;
  /** What of the paper (or of the baseline) the engine computes, and what it leaves out. */
  implements: string;
}

// ---- Papers: each one once ----

export const PAPERS = {
  han2015: {
    authors: ['Song Han', 'Jeff Pool', 'John Tran', 'William J. Dally'],
    title: 'Learning both Weights and Connections for Efficient Neural Networks',
    year: 2015,
    venue: 'NeurIPS',
    arxiv: '1506.02626',
  },
  liu2022: {
    authors: [
      'Shiwei Liu',
      'Tianlong Chen',
      'Xiaohan Chen',
      'Li Shen',
      'Decebal Constantin Mocanu',
      'Zhangyang Wang',
      'Mykola Pechenizkiy',
    ],
    title: 'The Unreasonable Effectiveness of Random Pruning: Return of the Most Naive Baseline for Sparse Training',
    year: 2022,
    venue: 'ICLR',
    arxiv: '2202.02643',
  },
  sun2024: {
    authors: ['Mingjie Sun', 'Zhuang Liu', 'Anna Bair', 'J. Zico Kolter'],
    title: 'A Simple and Effective Pruning Approach for Large Language Models',
    year: 2024,
    venue: 'ICLR',
    arxiv: '2306.11695',
  },
  frantar2023: {
    authors: ['Elias Frantar', 'Dan Alistarh'],
    title: 'SparseGPT: Massive Language Models Can Be Accurately Pruned in One-Shot',
    year: 2023,
    venue: 'ICML',
    arxiv: '2301.00774',
  },
  molchanov2019: {
    authors: ['Pavlo Molchanov', 'Arun Mallya', 'Stephen Tyree', 'Iuri Frosio', 'Jan Kautz'],
    title: 'Importance Estimation for Neural Network Pruning',
    year: 2019,
    venue: 'CVPR',
    arxiv: '1906.10771',
  },
  molchanov2017: {
    authors: ['Pavlo Molchanov', 'Stephen Tyree', 'Tero Karras', 'Timo Aila', 'Jan Kautz'],
    title: 'Pruning Convolutional Neural Networks for Resource Efficient Inference',
    year: 2017,
    venue: 'ICLR',
    arxiv: '1611.06440',
  },
  ma2023: {
    authors: ['Xinyin Ma', 'Gongfan Fang', 'Xinchao Wang'],
    title: 'LLM-Pruner: On the Structural Pruning of Large Language Models',
    year: 2023,
    venue: 'NeurIPS',
    arxiv: '2305.11627',
  },
  mishra2021: {
    authors: [
      'Asit Mishra',
      'Jorge Albericio Latorre',
      'Jeff Pool',
      'Darko Stosic',
      'Dusan Stosic',
      'Ganesh Venkatesh',
      'Chong Yu',
      'Paulius Micikevicius',
    ],
    title: 'Accelerating Sparse Deep Neural Networks',
    year: 2021,
    venue: 'arXiv',
    arxiv: '2104.08378',
  },
  michel2019: {
    authors: ['Paul Michel', 'Omer Levy', 'Graham Neubig'],
    title: 'Are Sixteen Heads Really Better than One?',
    year: 2019,
    venue: 'NeurIPS',
    arxiv: '1905.10650',
  },
  gromov2025: {
    authors: ['Andrey Gromov', 'Kushal Tirumala', 'Hassan Shapourian', 'Paolo Glorioso', 'Daniel A. Roberts'],
    title: 'The Unreasonable Ineffectiveness of the Deeper Layers',
    year: 2025,
    venue: 'ICLR',
    arxiv: '2403.17887',
  },
  men2024: {
    authors: [
      'Xin Men',
      'Mingyu Xu',
      'Qingyu Zhang',
      'Bingning Wang',
      'Hongyu Lin',
      'Yaojie Lu',
      'Xianpei Han',
      'Weipeng Chen',
    ],
    title: 'ShortGPT: Layers in Large Language Models are More Redundant Than You Expect',
    year: 2024,
    venue: 'arXiv',
    arxiv: '2403.03853',
  },
  zhang2024finercut: {
    authors: [
      'Yang Zhang',
      'Yawei Li',
      'Xinpeng Wang',
      'Qianli Shen',
      'Barbara Plank',
      'Bernd Bischl',
      'Mina Rezaei',
      'Kenji Kawaguchi',
    ],
    title: 'FinerCut: Finer-grained Interpretable Layer Pruning for Large Language Models',
    year: 2024,
    venue: 'arXiv',
    arxiv: '2405.18218',
  },
  liang2022: {
    authors: ['Youwei Liang', 'Chongjian Ge', 'Zhan Tong', 'Yibing Song', 'Jue Wang', 'Pengtao Xie'],
    title: 'Not All Patches are What You Need: Expediting Vision Transformers via Token Reorganizations',
    year: 2022,
    venue: 'ICLR',
    arxiv: '2202.07800',
  },
  zhang2023h2o: {
    authors: [
      'Zhenyu Zhang',
      'Ying Sheng',
      'Tianyi Zhou',
      'Tianlong Chen',
      'Lianmin Zheng',
      'Ruisi Cai',
      'Zhao Song',
      'Yuandong Tian',
      'Christopher Ré',
      'Clark Barrett',
      'Zhangyang Wang',
      'Beidi Chen',
    ],
    title: 'H2O: Heavy-Hitter Oracle for Efficient Generative Inference of Large Language Models',
    year: 2023,
    venue: 'NeurIPS',
    arxiv: '2306.14048',
  },
  fu2024: {
    authors: ['Qichen Fu', 'Minsik Cho', 'Thomas Merth', 'Sachin Mehta', 'Mohammad Rastegari', 'Mahyar Najibi'],
    title: 'LazyLLM: Dynamic Token Pruning for Efficient Long Context LLM Inference',
    year: 2024,
    venue: 'arXiv',
    arxiv: '2407.14057',
  },
  yin2024: {
    authors: [
      'Lu Yin',
      'You Wu',
      'Zhenyu Zhang',
      'Cheng-Yu Hsieh',
      'Yaqing Wang',
      'Yiling Jia',
      'Gen Li',
      'Ajay Jaiswal',
      'Mykola Pechenizkiy',
      'Yi Liang',
      'Michael Bendersky',
      'Zhangyang Wang',
      'Shiwei Liu',
    ],
    title: 'Outlier Weighed Layerwise Sparsity (OWL): A Missing Secret Sauce for Pruning LLMs to High Sparsity',
    year: 2024,
    venue: 'ICML',
    arxiv: '2310.05175',
  },
  frantar2022: {
    authors: ['Elias Frantar', 'Sidak Pal Singh', 'Dan Alistarh'],
    title: 'Optimal Brain Compression: A Framework for Accurate Post-Training Quantization and Pruning',
    year: 2022,
    venue: 'NeurIPS',
    arxiv: '2208.11580',
  },
  williams2024: {
    authors: ['Miles Williams', 'Nikolaos Aletras'],
    title: 'On the Impact of Calibration Data in Post-training Quantization and Pruning',
    year: 2024,
    venue: 'ACL',
    arxiv: '2311.09755',
  },
  frantar2023gptq: {
    authors: ['Elias Frantar', 'Saleh Ashkboos', 'Torsten Hoefler', 'Dan Alistarh'],
    title: 'GPTQ: Accurate Post-Training Quantization for Generative Pre-trained Transformers',
    year: 2023,
    venue: 'ICLR',
    arxiv: '2210.17323',
  },
  sieberling2025: {
    authors: ['Oliver Sieberling', 'Denis Kuznedelev', 'Eldar Kurtic', 'Dan Alistarh'],
    title: 'EvoPress: Accurate Dynamic Model Compression via Evolutionary Search',
    year: 2025,
    venue: 'ICML',
    arxiv: '2410.14649',
  },
  blalock2020: {
    authors: ['Davis Blalock', 'Jose Javier Gonzalez Ortiz', 'Jonathan Frankle', 'John Guttag'],
    title: 'What is the State of Neural Network Pruning?',
    year: 2020,
    venue: 'MLSys',
    arxiv: '2003.03033',
  },
} as const satisfies Record<string, Paper>;

/** "Sun et al., ICLR 2024" (two authors are both named). */
export function citeShort(p: Paper): string {
  const last = (name: string) => name.split(' ').at(-1);
  const who =
    p.authors.length === 1
      ? last(p.authors[0])
      : p.authors.length === 2
        ? `${last(p.authors[0])} & ${last(p.authors[1])}`
        : `${last(p.authors[0])} et al.`;
  return `${who}, ${p.venue === 'arXiv' ? `arXiv ${p.year}` : `${p.venue} ${p.year}`}`;
}

/** '"Title" (Sun et al., ICLR 2024; arXiv:2306.11695)'. */
export function citeLong(p: Paper): string {
  return `"${p.title}" (${citeShort(p)}; arXiv:${p.arxiv})`;
}

/** An entry's summary with its citation, for a tooltip or a help line. */
export function describeEntry(e: { summary: string; paper: Paper | null }): string {
  return e.paper ? `${e.summary} (${citeShort(e.paper)}, "${e.paper.title}")` : e.summary;
}

// ---- Scopes: which weights compete for the kept share ----

export type Scope = 'layer' | 'row' | 'global';

export interface ScopeEntry extends Entry<Scope> {}

export const SCOPES: readonly ScopeEntry[] = [
  {
    id: 'layer',
    label: 'per layer',
    summary: 'Each linear layer keeps its share of its own weights.',
    paper: null,
    implements: 'one threshold per layer at its block’s sparsity',
  },
  {
    id: 'row',
    label: 'per output row',
    summary: 'Each output row (a neuron’s inputs) keeps its share, as Wanda compares weights.',
    paper: PAPERS.sun2024,
    implements: 'Wanda’s comparison group: one threshold per output row',
  },
  {
    id: 'global',
    label: 'global',
    summary: 'One threshold over every block’s weights at once: blocks end up with different sparsities.',
    paper: PAPERS.blalock2020,
    implements:
      'global magnitude-style ranking of the scores over all prunable layers, one of the variants the survey compares',
  },
];

// ---- Calibration: where the sample inputs come from, and how they reach each block ----

export type CalibrationSourceId = 'train' | 'held-out' | 'random' | 'custom';

export interface CalibrationSourceEntry extends Entry<CalibrationSourceId> {}

export const CALIBRATION_SOURCES: readonly CalibrationSourceEntry[] = [
  {
    id: 'train',
    label: 'training data',
    summary: 'Windows of text or images from the data the model was trained on (calib.safetensors).',
    paper: PAPERS.williams2024,
    implements: 'random windows (text) or a seeded sample without replacement (images) of the shipped calibration set',
  },
  {
    id: 'held-out',
    label: 'held-out data',
    summary: 'Examples from the evaluation set itself: an optimistic check, never a fair result.',
    paper: PAPERS.williams2024,
    implements: 'the same sampling from eval.safetensors',
  },
  {
    id: 'random',
    label: 'random inputs',
    summary: 'Uniformly random tokens or pixel noise: how much the data matters.',
    paper: PAPERS.williams2024,
    implements: 'uniform token ids or uniform pixel values from a seeded generator',
  },
  {
    id: 'custom',
    label: 'your own data',
    summary: 'A text file or a data set you provide.',
    paper: PAPERS.williams2024,
    implements: 'windows of your text, or your images, sampled as for the training data',
  },
];

export type CalibrationMode = 'sequential' | 'one-shot';

export interface CalibrationModeEntry extends Entry<CalibrationMode> {}

export const CALIBRATION_MODES: readonly CalibrationModeEntry[] = [
  {
    id: 'sequential',
    label: 'sequential',
    summary:
      'Block by block: each block is calibrated on the inputs the already-pruned blocks before it produce, as the reference code of Wanda and SparseGPT does.',
    paper: PAPERS.frantar2023,
    implements:
      'the block inputs are cached once and carried forward through each block after it is pruned (sparsegpt’s opt_sequential, wanda’s prune_wanda)',
  },
  {
    id: 'one-shot',
    label: 'one-shot',
    summary: 'Every block is calibrated on the dense model’s activations, in one pass.',
    paper: null,
    implements: 'one forward pass of the dense model collects every layer’s statistics',
  },
];

// ---- Methods: how single weights are scored and selected ----

export type MethodId = 'magnitude' | 'random' | 'wanda' | 'sparsegpt' | 'taylor' | 'taylor-mean';

export interface MethodEntry extends Entry<MethodId> {
  needs: Needs;
  /** The scopes it can select within; the first is its default. */
  scopes: readonly Scope[];
  /** Why it offers no other scope, where it offers only some. */
  scopeReason?: string;
  /** The calibration modes it can use (none: it reads no activations); the default per family. */
  calibrationModes: readonly CalibrationMode[];
  defaultCalibrationMode: Record<Family, CalibrationMode> | null;
  /** What the layer detail's score histogram counts for it. */
  scoreName: string;
  /** Its masks (and weights) can be written as a checkpoint. */
  exports: boolean;
}

export const METHODS: readonly MethodEntry[] = [
  {
    id: 'magnitude',
    label: 'Magnitude',
    summary: 'Drops the weights of smallest |w|.',
    paper: PAPERS.han2015,
    implements: '|w| as the score; one-shot, without the paper’s retraining between pruning steps',
    needs: { calibration: false, gradients: false },
    scopes: ['layer', 'row', 'global'],
    calibrationModes: [],
    defaultCalibrationMode: null,
    scoreName: '|w|',
    exports: true,
  },
  {
    id: 'random',
    label: 'Random',
    summary: 'Drops weights at random: the floor every score must beat.',
    paper: PAPERS.liu2022,
    implements: 'uniform scores from a seeded generator (a shared link reproduces the mask); no sparse training',
    needs: { calibration: false, gradients: false },
    scopes: ['layer', 'row', 'global'],
    calibrationModes: [],
    defaultCalibrationMode: null,
    scoreName: 'random score',
    exports: true,
  },
  {
    id: 'wanda',
    label: 'Wanda',
    summary: 'Scores a weight by |w| times the norm of its input over calibration data, within each output row.',
    paper: PAPERS.sun2024,
    implements:
      '|W_ij|·‖X_j‖₂ over the calibration tokens, compared within each output row, as the reference lib/prune.py; language models are calibrated block by block on the pruned blocks’ outputs as prune_wanda does (one-shot on ViT, as its image-classifier code)',
    needs: { calibration: true, gradients: false },
    scopes: ['row', 'layer', 'global'],
    calibrationModes: ['sequential', 'one-shot'],
    defaultCalibrationMode: { 'causal-lm': 'sequential', 'image-classifier': 'one-shot' },
    scoreName: '|w|·‖x‖ (Wanda)',
    exports: true,
  },
  {
    id: 'sparsegpt',
    label: 'SparseGPT',
    summary: 'Second-order pruning that updates the kept weights to repair the error of the removed ones.',
    paper: PAPERS.frantar2023,
    implements:
      'fasterprune: OBS updates from H = 2XXᵀ + 1% mean-diagonal damping through the Cholesky factor of H⁻¹, lazy blocks of 128 columns, the mask chosen per column block by w²/[H⁻¹]ᵢᵢ (or per N:M group); block by block on the pruned blocks’ outputs (opt_sequential)',
    needs: { calibration: true, gradients: false },
    scopes: ['layer'],
    scopeReason: 'it chooses its mask per block of columns while it updates the weights, within each layer',
    calibrationModes: ['sequential', 'one-shot'],
    defaultCalibrationMode: { 'causal-lm': 'sequential', 'image-classifier': 'sequential' },
    scoreName: "|w|·‖x‖ (Wanda's score, standing in for SparseGPT's)",
    exports: true,
  },
  {
    id: 'taylor',
    label: 'Taylor',
    summary: 'Scores a weight by the squared first-order loss change of removing it, (w·∂L/∂w)², summed over examples.',
    paper: PAPERS.molchanov2019,
    implements:
      'the first-order importance (g·w)² of each parameter (their Eq. 3), accumulated over calibration minibatches as the paper does, each calibration example (a window or an image) one minibatch',
    needs: { calibration: true, gradients: true },
    scopes: ['layer', 'row', 'global'],
    calibrationModes: [],
    defaultCalibrationMode: null,
    scoreName: 'Σ (w·∂L/∂w)² (Taylor)',
    exports: true,
  },
  {
    id: 'taylor-mean',
    label: 'Taylor, mean gradient',
    summary: 'Scores a weight by |w·ḡ|, ḡ the gradient of the loss over all calibration data.',
    paper: PAPERS.ma2023,
    implements:
      'LLM-Pruner’s element-wise first-order importance |∂L/∂W·W| with the gradient of the mean loss; its second-order term is left out, as in its first-order variant',
    needs: { calibration: true, gradients: true },
    scopes: ['layer', 'row', 'global'],
    calibrationModes: [],
    defaultCalibrationMode: null,
    scoreName: '|w·ḡ| (LLM-Pruner)',
    exports: true,
  },
];

// ---- Granularities: what is removed ----

export type GranularityId = 'unstructured' | 'nm' | 'heads' | 'neurons' | 'blocks' | 'sublayers' | 'tokens';
export type StructuredGranularity = Exclude<GranularityId, 'unstructured' | 'nm'>;

export interface GranularityEntry extends Entry<GranularityId> {
  /** What the amount is a fraction of, for messages: "the weights", "the heads". */
  unit: string;
  /** Weights are scored by a method (unstructured, N:M); else by the granularity's own scores. */
  usesMethod: boolean;
  /** Scopes a structured granularity can rank within (empty: none apply); the first is the default. */
  scopes: readonly ('layer' | 'global')[];
  /** Its result can be written as a checkpoint (token pruning changes no weights). */
  exports: boolean;
}

export const GRANULARITIES: readonly GranularityEntry[] = [
  {
    id: 'unstructured',
    label: 'Unstructured',
    summary: 'Any single weight may go.',
    paper: PAPERS.han2015,
    implements: 'per-weight 0/1 masks on every block linear; embeddings and the output head stay dense',
    unit: 'the weights',
    usesMethod: true,
    scopes: [],
    exports: true,
  },
  {
    id: 'nm',
    label: '2:4 (N:M)',
    summary: 'At most 2 of every 4 consecutive weights along the input kept: what sparse tensor cores run.',
    paper: PAPERS.mishra2021,
    implements:
      'N of every M consecutive inputs of each output row kept by the method’s scores (2:4 on the page, any N:M in the CLI)',
    unit: 'the weights',
    usesMethod: true,
    scopes: [],
    exports: true,
  },
  {
    id: 'heads',
    label: 'Attention heads',
    summary: 'Removes whole attention heads.',
    paper: PAPERS.michel2019,
    implements:
      'heads ranked by the chosen score and removed per block or globally (scores normalized per block, as the paper does before a global ranking)',
    unit: 'the heads',
    usesMethod: false,
    scopes: ['layer', 'global'],
    exports: true,
  },
  {
    id: 'neurons',
    label: 'FFN neurons',
    summary: 'Removes intermediate units of the feed-forward networks.',
    paper: PAPERS.ma2023,
    implements: 'width pruning of each FFN’s intermediate layer by the chosen score, per block or globally',
    unit: 'the FFN neurons',
    usesMethod: false,
    scopes: ['layer', 'global'],
    exports: true,
  },
  {
    id: 'blocks',
    label: 'Blocks',
    summary: 'Drops whole transformer blocks whose input and output are most alike.',
    paper: PAPERS.gromov2025,
    implements:
      'the share of blocks rounded to a whole number, chosen by the score; removed blocks are skipped by the residual stream',
    unit: 'the blocks',
    usesMethod: false,
    scopes: [],
    exports: true,
  },
  {
    id: 'sublayers',
    label: 'Sublayers',
    summary: 'Drops attention or FFN sublayers one at a time, each the one whose removal changes the output least.',
    paper: PAPERS.zhang2024finercut,
    implements:
      'FinerCut’s greedy search over the 2·L attention and FFN sublayers; the output change is the mean KL divergence of the predictions from the starting model’s on calibration data',
    unit: 'the sublayers',
    usesMethod: false,
    scopes: [],
    exports: true,
  },
  {
    id: 'tokens',
    label: 'Tokens',
    summary: 'Keeps only the highest-scoring tokens at each block from a chosen block on (an inference-time setting).',
    paper: null,
    implements: 'dynamic token dropping between blocks by the chosen attention score; the weights are unchanged',
    unit: 'the tokens',
    usesMethod: false,
    scopes: [],
    exports: false,
  },
];

// ---- Structured scores: how heads, neurons, blocks and tokens are ranked ----

export type StructuredScoreId =
  | 'norm'
  | 'taylor'
  | 'entropy'
  | 'activation'
  | 'angular-window'
  | 'angular'
  | 'influence'
  | 'finercut'
  | 'cls'
  | 'last-query'
  | 'column-sum';

export interface StructuredScoreEntry extends Entry<StructuredScoreId> {
  granularity: StructuredGranularity;
  /** The families it applies to. */
  families: readonly Family[];
  needs: Needs;
}

/** Per granularity, in the order the controls list them; the first that fits the family is the default. */
export const STRUCTURED_SCORES: readonly StructuredScoreEntry[] = [
  {
    id: 'norm',
    granularity: 'heads',
    label: 'output norm',
    summary: 'The mean norm of what the head writes, before the output projection mixes the heads.',
    paper: null,
    implements: 'a magnitude baseline: the mean ‖context_h‖₂ over calibration tokens',
    families: ['causal-lm', 'image-classifier'],
    needs: { calibration: true, gradients: false },
  },
  {
    id: 'taylor',
    granularity: 'heads',
    label: 'Taylor (head gate)',
    summary: 'The expected absolute gradient of the loss with respect to a gate on the head.',
    paper: PAPERS.michel2019,
    implements: 'I_h = E_x |∂L(x)/∂ξ_h| for a gate ξ_h = 1 on each head, one gradient per calibration example',
    families: ['causal-lm', 'image-classifier'],
    needs: { calibration: true, gradients: true },
  },
  {
    id: 'entropy',
    granularity: 'heads',
    label: 'attention entropy',
    summary: 'Focused heads rank above heads that attend almost uniformly.',
    paper: null,
    implements:
      'the negated mean entropy of the head’s attention distributions; an indirect signal motivated by Voita et al. (ACL 2019), who find the heads doing the work confident — not their criterion',
    families: ['causal-lm', 'image-classifier'],
    needs: { calibration: true, gradients: false },
  },
  {
    id: 'activation',
    granularity: 'neurons',
    label: 'activation × output norm',
    summary:
      'The size of what the neuron adds to the residual stream: its activation norm times its output weights’ norm.',
    paper: PAPERS.sun2024,
    implements:
      'Wanda’s |W|·‖X‖ with the neuron as the unit: ‖a_j‖₂ over calibration tokens × ‖w_j‖₂ of its output column',
    families: ['causal-lm', 'image-classifier'],
    needs: { calibration: true, gradients: false },
  },
  {
    id: 'taylor',
    granularity: 'neurons',
    label: 'Taylor',
    summary: 'The first-order loss change of zeroing the neuron.',
    paper: PAPERS.molchanov2017,
    implements: 'E_x |Σ_tokens a_j·∂L(x)/∂a_j| through a gate on each neuron, one gradient per calibration example',
    families: ['causal-lm', 'image-classifier'],
    needs: { calibration: true, gradients: true },
  },
  {
    id: 'angular-window',
    granularity: 'blocks',
    label: 'angular distance, best window',
    summary: 'Removes the run of consecutive blocks whose ends are closest in angle.',
    paper: PAPERS.gromov2025,
    implements:
      'd = arccos(cos(x_ℓ, x_ℓ+n))/π between the input of the first and the output of the last block of each window of n, averaged over every calibration token (the paper reads the last token)',
    families: ['causal-lm', 'image-classifier'],
    needs: { calibration: true, gradients: false },
  },
  {
    id: 'angular',
    granularity: 'blocks',
    label: 'angular distance, per block',
    summary: 'Removes the blocks whose own input and output are closest in angle.',
    paper: PAPERS.gromov2025,
    implements: 'the paper’s distance with n = 1 per block; the smallest go',
    families: ['causal-lm', 'image-classifier'],
    needs: { calibration: true, gradients: false },
  },
  {
    id: 'influence',
    granularity: 'blocks',
    label: 'Block Influence',
    summary: 'Removes the blocks that change the hidden state least: 1 − cosine of input and output.',
    paper: PAPERS.men2024,
    implements: 'BI = 1 − E[cos(h_in, h_out)] over calibration tokens; the lowest go',
    families: ['causal-lm', 'image-classifier'],
    needs: { calibration: true, gradients: false },
  },
  {
    id: 'finercut',
    granularity: 'sublayers',
    label: 'FinerCut',
    summary: 'Greedily removes the sublayer whose removal changes the predictions least.',
    paper: PAPERS.zhang2024finercut,
    implements: 'greedy removal by the mean KL divergence from the starting model’s predictions on calibration data',
    families: ['causal-lm', 'image-classifier'],
    needs: { calibration: true, gradients: false },
  },
  {
    id: 'cls',
    granularity: 'tokens',
    label: 'CLS attention',
    summary: 'Keeps the patches the class token attends to most; the class token always stays.',
    paper: PAPERS.liang2022,
    implements:
      'EViT’s ranking by the CLS query’s attention averaged over heads; the dropped tokens are not fused into one, as EViT does',
    families: ['image-classifier'],
    needs: { calibration: false, gradients: false },
  },
  {
    id: 'last-query',
    granularity: 'tokens',
    label: 'last query’s attention',
    summary: 'Keeps the tokens the last position attends to most; the last position always stays.',
    paper: PAPERS.fu2024,
    implements:
      'LazyLLM’s score: the attention of the last query averaged over heads, at each block from the chosen one on; no revival of dropped tokens in later steps (one prediction per window)',
    families: ['causal-lm'],
    needs: { calibration: false, gradients: false },
  },
  {
    id: 'column-sum',
    granularity: 'tokens',
    label: 'accumulated attention',
    summary: 'Keeps the tokens that received the most attention over all queries (favours early tokens).',
    paper: PAPERS.zhang2023h2o,
    implements:
      'H2O’s heavy-hitter score: the attention each token received summed over every query, averaged over heads; used here to drop tokens between blocks, not to evict a KV cache',
    families: ['causal-lm'],
    needs: { calibration: false, gradients: false },
  },
];

// ---- Layer-wise allocation: how a target sparsity is split over the blocks ----

export type AllocationId = 'uniform' | 'owl' | 'sensitivity' | 'evopress';

export interface AllocationParameter {
  id: string;
  label: string;
  /** The CLI's option where it is not --<allocation>-<id>. */
  option?: string;
  /** Takes whole numbers only. */
  integer?: boolean;
  default: number;
  min: number;
  max: number;
  summary: string;
}

export interface AllocationEntry extends Entry<AllocationId> {
  needs: Needs;
  parameters: readonly AllocationParameter[];
  /** Why it cannot split a model read a block at a time (it reads every block first); absent when it can. */
  readsEveryBlock?: string;
}

export const ALLOCATIONS: readonly AllocationEntry[] = [
  {
    id: 'uniform',
    label: 'uniform',
    summary: 'Every block at the target sparsity.',
    paper: null,
    implements: 'the target for every block',
    needs: { calibration: false, gradients: false },
    parameters: [],
  },
  {
    id: 'owl',
    label: 'OWL',
    summary: 'Blocks with more outlier Wanda scores are pruned less.',
    paper: PAPERS.yin2024,
    implements:
      'each block’s outlier ratio (% of its Wanda scores above M × their mean, on the dense model) rescaled to [0, 2λ], centred on 1 − target as keep ratio; a block at or below 0 sparsity is set to 0.01, as the reference code does',
    needs: { calibration: true, gradients: false },
    readsEveryBlock: 'it ranks every block’s outlier ratio before it prunes one',
    parameters: [
      {
        id: 'm',
        label: 'M',
        default: 5,
        min: 1,
        max: 100,
        summary: 'A score above M × its block’s mean is an outlier.',
      },
      {
        id: 'lambda',
        label: 'λ',
        default: 0.08,
        min: 0,
        max: 0.5,
        summary: 'Half the spread of the blocks’ sparsities around the target.',
      },
    ],
  },
  {
    id: 'sensitivity',
    label: 'sensitivity',
    summary: 'Each block pruned alone at 10…90%; the split adds the least calibration loss per weight removed.',
    paper: PAPERS.frantar2022,
    implements:
      'per-block loss-versus-sparsity curves on calibration data (the method’s scores; Wanda’s standing in for SparseGPT’s), then a greedy split in 5% steps meeting the target exactly — OBC’s per-layer database with a greedy step in place of its dynamic program',
    needs: { calibration: true, gradients: false },
    readsEveryBlock: 'it prunes every block alone before it splits the sparsity',
    parameters: [],
  },
  {
    id: 'evopress',
    label: 'EvoPress',
    summary:
      'An evolutionary search over per-block sparsities at a fixed total: offspring move sparsity between blocks, and those whose predictions stay closest to the dense model’s survive.',
    paper: PAPERS.sieberling2025,
    implements:
      'EvoPress’s level-switch mutation (1–3 swaps of one level between two blocks, each level the same number of weights in every block, so the total stays at the target) and multi-step selection (16 offspring scored on ⅛ of the calibration windows, 4 survivors on ½, 2 on all with the parent competing) from the uniform split; the fitness is the mean KL divergence from the dense model’s predictions; candidates are pruned by the method’s scores on the dense model’s statistics (Wanda’s standing in for SparseGPT’s), and the split found is then pruned by the recipe as any allocation’s',
    needs: { calibration: true, gradients: false },
    readsEveryBlock: 'it measures the whole model’s predictions for every candidate split',
    parameters: [
      {
        id: 'steps',
        label: 'search steps',
        option: 'search-steps',
        integer: true,
        default: 20,
        min: 1,
        max: 5000,
        summary: 'Generations of mutation and selection; the search streams its best split after each.',
      },
    ],
  },
];

// ---- Quantization: the kept weights put on a grid of a few bits ----

export type QuantizerId = 'rtn' | 'gptq';

export interface QuantizerEntry extends Entry<QuantizerId> {
  needs: Needs;
  /** It can visit columns by decreasing Hessian diagonal (GPTQ's act-order). */
  actOrder: boolean;
}

export const QUANTIZERS: readonly QuantizerEntry[] = [
  {
    id: 'rtn',
    label: 'round to nearest',
    summary:
      'Each kept weight rounded to the nearest point of its group’s grid: the baseline GPTQ is measured against.',
    paper: null,
    implements:
      'GPTQ’s quantizer (min/max grid per output row or group of input columns, with a zero point or symmetric) applied to every kept weight at once; pruned weights stay exactly 0',
    needs: { calibration: false, gradients: false },
    actOrder: false,
  },
  {
    id: 'gptq',
    label: 'GPTQ',
    summary:
      'Quantizes one input column at a time and feeds each rounding error into the columns not yet quantized, from the layer’s calibration Hessian.',
    paper: PAPERS.frantar2023gptq,
    implements:
      'fasterquant: H = 2XXᵀ + 1% mean-diagonal damping, lazy blocks of 128 columns, group parameters found when the sweep reaches a group, act-order as an option; joined with SparseGPT in the same column sweep (the SparseGPT paper’s joint mode), and after any other method’s mask on the kept weights (the two-step baseline); block by block on the quantized blocks’ outputs',
    needs: { calibration: true, gradients: false },
    actOrder: true,
  },
];

/** The bit widths the page offers (the CLI takes 2…8). */
export const QUANT_BITS = [8, 4, 3] as const;
/** The group sizes the page offers; 0 is one scale per output row (per channel). */
export const QUANT_GROUP_SIZES = [0, 128, 64, 32] as const;
export const QUANT_BIT_RANGE = { min: 2, max: 8 } as const;

// ---- What a searched allocation splits over ----

export type SearchUnit = 'blocks' | 'linears';

export interface SearchUnitEntry extends Entry<SearchUnit> {}

export const SEARCH_UNITS: readonly SearchUnitEntry[] = [
  {
    id: 'blocks',
    label: 'blocks',
    summary: 'One sparsity per transformer block, shared by its linears: few units, a short search.',
    paper: PAPERS.sieberling2025,
    implements: 'the search over per-block levels, each block’s linears pruned at its sparsity',
  },
  {
    id: 'linears',
    label: 'linears',
    summary: 'One sparsity per linear layer: attention and FFN projections apart, as the paper’s unstructured search.',
    paper: PAPERS.sieberling2025,
    implements:
      'the paper’s per-layer search for unstructured sparsity: a level moves the same number of weights in every linear',
  },
];

// ---- Lookups ----

function byId<T extends { id: string }>(list: readonly T[], what: string) {
  return (id: string): T => {
    const e = list.find((x) => x.id === id);
    if (!e) throw new RecipeError(`unknown ${what} "${id}" (expected one of: ${list.map((x) => x.id).join(', ')})`);
    return e;
  };
}

export const methodEntry = byId(METHODS, 'method');
export const granularityEntry = byId(GRANULARITIES, 'granularity');
export const allocationEntry = byId(ALLOCATIONS, 'allocation');
export const scopeEntry = byId(SCOPES, 'scope');
export const calibrationSourceEntry = byId(CALIBRATION_SOURCES, 'calibration source');
export const calibrationModeEntry = byId(CALIBRATION_MODES, 'calibration mode');
export const quantizerEntry = byId(QUANTIZERS, 'quantizer');
export const searchUnitEntry = byId(SEARCH_UNITS, 'search unit');

export const ids = <T extends { id: string }>(list: readonly T[]): T['id'][] => list.map((e) => e.id);

/** The scores a structured granularity ranks by on a family, the default first. */
export function scoresFor(granularity: StructuredGranularity, family: Family): StructuredScoreEntry[] {
  return STRUCTURED_SCORES.filter((s) => s.granularity === granularity && s.families.includes(family));
}

export function structuredScoreEntry(
  granularity: StructuredGranularity,
  id: string,
  family: Family,
): StructuredScoreEntry {
  const all = scoresFor(granularity, family);
  const e = all.find((s) => s.id === id);
  if (!e) {
    throw new RecipeError(
      `unknown score "${id}" for ${granularityEntry(granularity).label.toLowerCase()} on this model (expected one of: ${all.map((s) => s.id).join(', ')})`,
    );
  }
  return e;
}

/** The method's scope unless one is given. */
export const defaultScope = (method: MethodId): Scope => methodEntry(method).scopes[0];

/**
 * The calibration mode a method uses on a family unless one is given; null when it reads no
 * activations. A global ranking needs every block's scores at once, so it is calibrated one-shot.
 */
export function defaultCalibrationMode(method: MethodId, family: Family, scope?: Scope): CalibrationMode | null {
  const m = methodEntry(method);
  if (scope === 'global' && m.calibrationModes.includes('one-shot')) return 'one-shot';
  return m.defaultCalibrationMode?.[family] ?? null;
}

/** The allocation parameters' defaults: { m: 5, lambda: 0.08 } for OWL. */
export function allocationDefaults(id: AllocationId): Record<string, number> {
  return Object.fromEntries(allocationEntry(id).parameters.map((p) => [p.id, p.default]));
}

// ---- What can be combined ----

/** A combination the engine cannot honour, or a value it does not know. The CLI exits 2 on it. */
export class RecipeError extends Error {
  override name = 'RecipeError';
}

/**
 * The choices that make up a recipe, as the controls and the CLI's options set them. An absent
 * field is the default for the choices before it (the method's own scope, its family's calibration
 * mode, the granularity's first score).
 */
export interface Choices {
  family: Family;
  granularity: GranularityId;
  method?: MethodId;
  scope?: Scope;
  allocation?: AllocationId;
  calibrationMode?: CalibrationMode;
  score?: StructuredScoreId;
  /** Each block's sparsity set explicitly (the page's free per-layer sliders). */
  perBlock?: boolean;
  /** The kept weights quantized by this quantizer (none: kept at full precision). */
  quantizer?: QuantizerId;
  /** GPTQ's act-order asked for. */
  actOrder?: boolean;
}

const quote = (label: string) => `“${label}”`;

/**
 * Why the choices cannot be honoured together, naming both sides; null when they can. Choices are
 * read in the order the controls show them (granularity, method or score, scope, allocation,
 * calibration mode), and each is checked against the ones before it.
 */
export function refusal(c: Choices): string | null {
  const g = granularityEntry(c.granularity);
  if (!g.usesMethod) {
    const structured = c.granularity as StructuredGranularity;
    if (c.method !== undefined)
      return `${quote(g.label)} ranks ${g.unit} by its own score; a weight method (${quote(methodEntry(c.method).label)}) does not apply`;
    if (c.score !== undefined) {
      const all = scoresFor(structured, c.family);
      if (all.length === 0) return `${quote(g.label)} takes no score`;
      const s = all.find((e) => e.id === c.score);
      if (!s) {
        const other = STRUCTURED_SCORES.find((e) => e.id === c.score && e.granularity === structured);
        return other
          ? `the score ${quote(other.label)} does not apply to ${familyName(c.family)} (it ranks ${g.unit} of ${other.families.map(familyName).join(' and ')})`
          : `${quote(g.label)} is not ranked by “${c.score}” (its scores: ${all.map((e) => e.id).join(', ')})`;
      }
    }
    if (c.scope !== undefined && !(g.scopes as readonly string[]).includes(c.scope)) {
      return g.scopes.length === 0
        ? `${quote(g.label)} has no scope: ${scopeLabel(c.scope)} does not apply`
        : `${quote(g.label)} ranks per layer or globally; ${scopeLabel(c.scope)} does not apply`;
    }
    if (c.allocation !== undefined && c.allocation !== 'uniform') {
      return `the ${quote(allocationEntry(c.allocation).label)} allocation splits a weight sparsity over blocks; ${quote(g.label)} removes ${g.unit} instead`;
    }
    if (c.calibrationMode !== undefined)
      return `the calibration mode applies to Wanda and SparseGPT; ${quote(g.label)} has none`;
    if (c.perBlock) return `per-block sparsity applies to weight pruning; ${quote(g.label)} removes ${g.unit} instead`;
    if (c.quantizer !== undefined)
      return `quantization (${quote(quantizerEntry(c.quantizer).label)}) applies to the weights a method keeps; ${quote(g.label)} removes ${g.unit} instead`;
    return null;
  }
  if (c.score !== undefined) return `${quote(g.label)} scores weights by the method; a structured score does not apply`;
  const m = methodEntry(c.method ?? 'magnitude');
  const nm = c.granularity === 'nm';
  if (c.scope !== undefined) {
    if (nm) return `${quote(g.label)} keeps N of every M inputs within each row; ${scopeLabel(c.scope)} does not apply`;
    if (!m.scopes.includes(c.scope)) {
      const own = m.scopes.map((s) => quote(scopeEntry(s).label)).join(' or ');
      return `${quote(m.label)} selects ${own} only${m.scopeReason ? ` (${m.scopeReason})` : ''}; ${scopeLabel(c.scope)} does not apply`;
    }
  }
  const scope = nm ? null : (c.scope ?? m.scopes[0]);
  if (c.allocation !== undefined && c.allocation !== 'uniform') {
    const a = allocationEntry(c.allocation);
    if (nm)
      return `${quote(g.label)} keeps N of every M weights in every block; the ${quote(a.label)} allocation does not apply`;
    if (scope === 'global')
      return `a ${quote(scopeEntry('global').label)} scope sets one threshold for all blocks; the ${quote(a.label)} allocation’s per-block split does not apply`;
    if (c.perBlock)
      return `the per-block sparsities set by hand replace the allocation; ${quote(a.label)} does not apply`;
  }
  if (c.perBlock) {
    if (nm) return `${quote(g.label)} keeps N of every M weights in every block; per-block sparsity does not apply`;
    if (scope === 'global')
      return `a ${quote(scopeEntry('global').label)} scope sets one threshold for all blocks; per-block sparsity does not apply`;
  }
  if (c.calibrationMode !== undefined && !m.calibrationModes.includes(c.calibrationMode)) {
    return m.calibrationModes.length === 0
      ? `${quote(m.label)} ${m.needs.gradients ? 'takes its gradients from the dense model in one pass' : 'reads no activations'}; the ${quote(calibrationModeEntry(c.calibrationMode).label)} calibration mode does not apply`
      : `${quote(m.label)} cannot be calibrated ${quote(calibrationModeEntry(c.calibrationMode).label)}`;
  }
  if (c.calibrationMode === 'sequential' && scope === 'global') {
    return `a ${quote(scopeEntry('global').label)} scope ranks every block’s scores at once; ${quote(calibrationModeEntry('sequential').label)} calibration prunes one block before it measures the next`;
  }
  return quantRefusal(c, m);
}

/** Why the quantization choices cannot go with the method; null when they can. */
function quantRefusal(c: Choices, m: MethodEntry): string | null {
  if (!c.actOrder) return null;
  if (c.quantizer === undefined) return 'act-order orders the columns GPTQ quantizes; there is no quantization';
  const q = quantizerEntry(c.quantizer);
  if (!q.actOrder) return `act-order orders GPTQ’s columns; ${quote(q.label)} has no order`;
  if (m.id === 'sparsegpt')
    return `${quote(m.label)} chooses its mask block by block of columns in their input order; act-order would permute them`;
  return null;
}

/**
 * Why the choices cannot run on a model read a block at a time (stream/streamed-prune.ts), which
 * holds one block and decides each block from what that block's inputs show; null when they can.
 * Call after refusal(): it assumes the choices are valid.
 */
export function streamRefusal(c: Choices): string | null {
  const g = granularityEntry(c.granularity);
  if (!g.usesMethod) return `${quote(g.label)} ranks ${g.unit} across the whole model`;
  const m = methodEntry(c.method ?? 'magnitude');
  if (m.needs.gradients) return `${quote(m.label)} needs gradients through the whole model`;
  const scope = c.granularity === 'nm' ? null : (c.scope ?? m.scopes[0]);
  if (scope === 'global') return `a ${quote(scopeEntry('global').label)} scope ranks every block’s weights at once`;
  const a = allocationEntry(c.allocation ?? 'uniform');
  if (a.readsEveryBlock) return `the ${quote(a.label)} allocation cannot: ${a.readsEveryBlock}`;
  return null;
}

/** refusal(), thrown as a RecipeError. */
export function checkChoices(c: Choices): void {
  const why = refusal(c);
  if (why) throw new RecipeError(why);
}

/** What the calibration data is needed for, or null when the choices read none. */
export function needsOf(c: Choices): Needs {
  const g = granularityEntry(c.granularity);
  const parts: Needs[] = [];
  if (g.usesMethod) {
    parts.push(methodEntry(c.method ?? 'magnitude').needs);
    if (c.allocation && !c.perBlock) parts.push(allocationEntry(c.allocation).needs);
    if (c.quantizer) parts.push(quantizerEntry(c.quantizer).needs);
  } else {
    const structured = c.granularity as StructuredGranularity;
    const all = scoresFor(structured, c.family);
    const s = all.find((e) => e.id === c.score) ?? all[0];
    if (s) parts.push(s.needs);
  }
  return {
    calibration: parts.some((n) => n.calibration),
    gradients: parts.some((n) => n.gradients),
  };
}

function scopeLabel(s: Scope): string {
  return `a ${quote(scopeEntry(s).label)} scope`;
}

const familyName = (f: Family): string => FAMILY_NAMES[f];
