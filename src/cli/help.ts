// The CLI's help: the top-level usage, and each command's --help written from the option table
// (options.ts): an option per row in aligned columns, its values under it as the catalogue
// describes them (label, summary, citation), wrapped to fit a terminal.
import {
  ALLOCATIONS,
  citeShort,
  GRANULARITIES,
  METHODS,
  STRUCTURED_SCORES,
  FAMILIES,
  FAMILY_NAMES,
} from '../engine/pruning/catalogue';
import { SUPPORTED_ARCHITECTURES } from '../engine/model/config';
import {
  andList,
  COMMANDS,
  type Command,
  granularitiesFor,
  OPTION_LIST,
  type OptionSpec,
  type OptionValue,
  offered,
  orList,
  type Section,
  takes,
} from './options';

export const USAGE = `Usage: npm run -s cli -- <command> [options]
       npx tsx src/cli/main.ts <command> [options]

Prunes transformer checkpoints in Hugging Face format:
  ${SUPPORTED_ARCHITECTURES.join(', ')}.
A model directory holds config.json and model.safetensors (or model.safetensors.index.json and its
shards), plus tokenizer.json for text models and, for measuring, eval.safetensors (and
calib.safetensors, the "train" calibration data); --eval and --calib read your own data
instead: a UTF-8 text file, or a folder of images in class subfolders.

Commands:
  prune    prune by one recipe and measure the result (metric, parameters, FLOPs, sizes, times)
  sweep    measure one recipe at several sparsities, printing each point as it is measured
           (JSON Lines with --json)
  eval     the dense model's metric on its eval set and its cost
  predict  the next-token distribution after a text, or the classes of an image
  export   prune and write the result as a Hugging Face checkpoint directory

prune, sweep and export prune single weights (--method, the default) or whole structures:
attention heads, FFN neurons, blocks, sublayers, or tokens at inference (--granularity).

Run "<command> --help" for a command's options.
JSON goes to stdout, progress to stderr (use "npm run -s" so npm's banner stays off stdout).
Exit codes: 0 success, 1 runtime error (missing or corrupt files, …), 2 bad arguments, 130 interrupted (Ctrl-C).
`;

/** What each command does, above its options. */
const ABOUT: Record<Command, { usage: string[]; about: string }> = {
  prune: {
    usage: [
      'prune --model <dir> --method <name> --sparsity <s> [options]',
      'prune --model <dir> --granularity <g> --sparsity <s> [--score <name>] [options]',
    ],
    about: `Prunes the model by the recipe and measures the pruned model on eval.safetensors.
Prints the report: the recipe with every default filled in, metric, sparsity reached, parameters,
FLOPs, sizes, the per-block sparsity counted from the masks (and the allocation's target where it
differs), times; for structured pruning also "structure", what was removed (and the sparsity is
the share of the blocks' linear parameters removed).`,
  },
  sweep: {
    usage: [
      'sweep --model <dir> --method <name> --sparsities <s1,s2,…> [options]',
      'sweep --model <dir> --granularity <g> --sparsities <s1,s2,…> [--score <name>] [options]',
    ],
    about: `Measures the recipe at each sparsity, reusing calibration data between points (and, for
unstructured pruning, its statistics), and prints each point as soon as it is measured: with
--json one JSON line per point (JSON Lines, each the report "prune --json" prints), else one
readable line per point. N:M fixes the sparsity, so it is pruned with "prune".`,
  },
  eval: {
    usage: ['eval --model <dir> [options]'],
    about: `The dense model's metric on its eval.safetensors or --eval data (top-1 accuracy for images; loss,
bits per byte, perplexity and next-token accuracy for text) and its size and cost per example.`,
  },
  predict: {
    usage: [
      'predict --model <dir> --text <string> [--top <k>] [options]',
      'predict --model <dir> --image <file> [--top <k>] [options]',
    ],
    about: `The dense model's prediction for one input. A language model: the distribution of the next token
after the text (encoded as the tokenizer does by default, special tokens added; the last window
of the model's context when longer), with --json {"ids": [the input ids], "top": [{"id", "token",
"prob"}, …]} where token is the token's text decoded alone. An image model: the class
probabilities, with --json {"top": [{"index", "label", "prob"}, …]}.`,
  },
  export: {
    usage: [
      'export --model <dir> --out <dir> --method <name> --sparsity <s> [options]',
      'export --model <dir> --out <dir> --granularity <g> --sparsity <s> [--score <name>] [options]',
    ],
    about: `Prunes as "prune" does, measures the result when the model has an eval set, and writes a Hugging
Face checkpoint that transformers loads with from_pretrained unchanged:
  config.json           the source config, every field kept (n_layer / num_hidden_layers counts
                        the blocks left when blocks are removed)
  model.safetensors     the weights in the source's dtypes, names and shards (or the index and
    (or shards)         shards), pruned weights as zeros (SparseGPT's updated values)
  masks.safetensors     U8 0/1 mask of every pruned matrix, same names and shapes
  recipe.json           recipe, calibration, per-block structure and sparsity, metrics, engine
                        version, date
  tokenizer.json, tokenizer_config.json, preprocessor_config.json, generation_config.json, …
                        copied from the source when present

A model that does not fit --memory-budget whole is pruned a block at a time and its files
written as each block is done (unstructured and N:M pruning only).

Structured pruning: removed blocks are left out and the blocks after them renumbered; removed
heads, FFN neurons and sublayers are written as zero weights and biases (exactly what the pruned
model computes). What changes no weights (token pruning, an inference-time setting) cannot be
exported.`,
  },
};

const WIDTH = 100;
/** Where an option's help starts; its values' ids start two further in. */
const TEXT_COLUMN = 26;
const SECTIONS: readonly Section[] = [
  'general',
  'granularity',
  'weights',
  'quantization',
  'structured',
  'calibration',
  'recovery',
  'evaluation',
];

/** Keeps a citation on one line: the wrapper breaks at plain spaces only. */
const NBSP = '\u00a0';
const unbroken = (s: string) => s.replaceAll(' ', NBSP);

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines.map((l) => l.replaceAll(NBSP, ' '));
}

/** `head` at `indent`, then `text` wrapped in the column from `column` on (on the next line if `head` reaches it). */
function columns(head: string, indent: number, column: number, text: string): string[] {
  const first = ' '.repeat(indent) + head;
  const body = wrap(text, WIDTH - column);
  const pad = ' '.repeat(column);
  if (first.length >= column - 1) return [first, ...body.map((l) => pad + l)];
  return [first.padEnd(column) + body[0], ...body.slice(1).map((l) => pad + l)];
}

/** A section's heading, its continuation lines indented. */
function heading(title: string): string[] {
  const [first, ...rest] = wrap(title, WIDTH - 2);
  return [first, ...rest.map((l) => `  ${l}`)];
}

/** "label — summary (Sun et al., ICLR 2024)", and the families where it does not apply to every model. */
function describe(v: OptionValue, extra = ''): string {
  const only =
    v.families && v.families.length < FAMILIES.length
      ? ` For ${v.families.map((f) => FAMILY_NAMES[f]).join(' and ')} only.`
      : '';
  const cite = v.paper ? ` ${unbroken(`(${citeShort(v.paper)})`)}` : '';
  return `${v.label} — ${v.summary}${extra ? ` ${extra}` : ''}${only}${cite}`;
}

function valueRows(values: readonly { id: string; text: string }[], indent: number): string[] {
  const width = Math.max(...values.map((v) => v.id.length));
  return values.flatMap((v) => columns(v.id, indent, indent + width + 2, v.text));
}

function optionRows(name: string, o: OptionSpec, command: Command): string[] {
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.arg ? ` ${o.arg}` : ''}`;
  const help = typeof o.help === 'function' ? o.help(command) : o.help;
  const notes = [o.default !== undefined ? `default ${o.default}` : '', o.required ?? ''].filter((s) => s);
  const rows = columns(flag, 2, TEXT_COLUMN, notes.length ? `${help} (${notes.join('; ')})` : help);
  if (o.kind.type !== 'choice') return rows;
  const values = offered(o.kind, command);
  const indent = TEXT_COLUMN + 2;
  const grouped = new Map<string | undefined, OptionValue[]>();
  for (const v of values) grouped.set(v.granularity, [...(grouped.get(v.granularity) ?? []), v]);
  const file = o.kind.file;
  for (const [group, vs] of grouped) {
    const listed = vs.map((v) => ({ id: v.id, text: describe(v) }));
    if (group === undefined) {
      if (file) listed.push({ id: '<file>', text: describe(file.value, file.detail) });
      rows.push(...valueRows(listed, indent));
    } else {
      rows.push(`${' '.repeat(indent)}${group}:`, ...valueRows(listed, indent + 2));
    }
  }
  return rows;
}

const calibrationReaders = () => {
  const methods = METHODS.filter((m) => m.needs.calibration).map((m) => m.id);
  const allocations = ALLOCATIONS.filter((a) => a.needs.calibration).map((a) => a.id);
  const structured = GRANULARITIES.filter((g) =>
    STRUCTURED_SCORES.some((s) => s.granularity === g.id && s.needs.calibration),
  ).map((g) => g.id);
  return `${andList(methods)}; the ${andList(allocations)} allocations; ${andList(structured)}`;
};

/** The section headings of --help, each naming what its options apply to. */
function sectionTitle(s: Section, command: Command): string {
  const gs = granularitiesFor(command);
  switch (s) {
    case 'general':
      return 'Options';
    case 'granularity':
      return 'What is removed';
    case 'weights':
      return `Weight pruning (--granularity ${orList(gs.filter((g) => g.usesMethod).map((g) => g.id))})`;
    case 'quantization':
      return 'Quantization of the kept weights (with --bits)';
    case 'structured':
      return `Structured pruning (--granularity ${orList(gs.filter((g) => !g.usesMethod).map((g) => g.id))})`;
    case 'calibration':
      return `Calibration (read by ${calibrationReaders()})`;
    case 'recovery':
      return 'Recovery after pruning (with --recover)';
    case 'evaluation':
      return 'Evaluation (what the metric is measured on)';
  }
}

function commandHelp(command: Command): string {
  const { usage, about } = ABOUT[command];
  const parts = [usage.map((u, i) => `${i ? '      ' : 'Usage:'} ${u}`).join('\n'), about];
  for (const section of SECTIONS) {
    const rows = OPTION_LIST.filter(([, o]) => o.section === section && takes(o, command)).flatMap(([name, o]) =>
      optionRows(name, o, command),
    );
    if (rows.length) parts.push([...heading(`${sectionTitle(section, command)}:`), ...rows].join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}

export const HELP = Object.fromEntries(COMMANDS.map((c) => [c, commandHelp(c)])) as Record<Command, string>;
