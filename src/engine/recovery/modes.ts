// The recovery modes, stated once: their ids, labels, papers and what each trains. The CLI's
// --recover, the page's control and the share link all read this list.
import type { Paper } from '../pruning/catalogue';

export type RecoveryModeId = 'finetune' | 'distill' | 'lora';

export interface RecoveryModeEntry {
  id: RecoveryModeId;
  label: string;
  summary: string;
  paper: Paper | null;
  implements: string;
  /** The peak learning rate used when none is given: adapters start at zero and take larger steps. */
  defaultLearningRate: number;
}

const PAPERS = {
  hinton2015: {
    authors: ['Geoffrey Hinton', 'Oriol Vinyals', 'Jeff Dean'],
    title: 'Distilling the Knowledge in a Neural Network',
    year: 2015,
    venue: 'arXiv',
    arxiv: '1503.02531',
  },
  hu2021: {
    authors: [
      'Edward J. Hu',
      'Yelong Shen',
      'Phillip Wallis',
      'Zeyuan Allen-Zhu',
      'Yuanzhi Li',
      'Shean Wang',
      'Lu Wang',
      'Weizhu Chen',
    ],
    title: 'LoRA: Low-Rank Adaptation of Large Language Models',
    year: 2022,
    venue: 'ICLR',
    arxiv: '2106.09685',
  },
} satisfies Record<string, Paper>;

export const RECOVERY_MODES: readonly RecoveryModeEntry[] = [
  {
    id: 'finetune',
    label: 'Masked fine-tuning',
    summary: 'Trains every kept weight on the task’s loss; what was removed stays zero.',
    paper: null,
    implements: 'Adam on next-token or label cross-entropy, gradients masked and the mask re-applied after each update',
    defaultLearningRate: 1e-4,
  },
  {
    id: 'distill',
    label: 'Distillation',
    summary: 'Trains the kept weights to match the dense model’s outputs.',
    paper: PAPERS.hinton2015,
    implements: 'KL(teacher ‖ student) of temperature-softened logits, scaled by T², with the same masking',
    defaultLearningRate: 1e-4,
  },
  {
    id: 'lora',
    label: 'LoRA',
    summary: 'Trains low-rank adapters on the pruned linears, the weights frozen; merged with the mask re-applied.',
    paper: PAPERS.hu2021,
    implements: 'W + (α/r)·B·A, A Kaiming-uniform and B zero at the start, exported in PEFT’s format',
    defaultLearningRate: 1e-3,
  },
];

export const recoveryModeEntry = (id: RecoveryModeId): RecoveryModeEntry => {
  const entry = RECOVERY_MODES.find((m) => m.id === id);
  if (!entry) throw new Error(`unknown recovery mode "${id}"`);
  return entry;
};

export type RecoveryDataId = 'calibration' | 'train' | 'custom';

/** Where the training examples of a recovery come from. */
export const RECOVERY_DATA: readonly {
  id: RecoveryDataId;
  label: string;
  summary: string;
  paper: null;
  implements: string;
}[] = [
  {
    id: 'train',
    label: 'training slice',
    summary:
      'The slice of its training data that the model ships with (calib.safetensors), all of it: a few hundred examples, which a long run goes over many times.',
    paper: null,
    implements: 'non-overlapping windows of the text, or every labelled image, in a seeded order each epoch',
  },
  {
    id: 'calibration',
    label: 'calibration data',
    summary: 'The examples the recipe calibrated on.',
    paper: null,
    implements: 'the recipe’s calibration windows or images (unlabelled images labelled by the dense model)',
  },
  {
    id: 'custom',
    label: 'your own data',
    summary: 'A text file or a data set you provide.',
    paper: null,
    implements: 'non-overlapping windows of your text, or your labelled images',
  },
];
