// The handed-over recipes parse as YAML (1.2 and 1.1, as PyYAML reads them) into exactly the fields
// the tools take, for every method and family the tools can run; the rest is refused naming both sides.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tinyGpt2, tinyLlama, tinyVit } from '../model/tiny-models';
import type { ModelConfig } from '../model/config';
import { familyOf, type MethodId, METHODS, RecipeError } from '../pruning/catalogue';
import { resolvePruneRecipe, resolveStructuredRecipe, type PruneRecipe } from '../pruning/recipe';
import { handoverRefusal, llmCompressorRecipe, torchPruningConfig, writeHandover } from './handover';

// ---- The schemas: each tool's fields, as its source at the named version has them ----

type Check = (v: unknown, path: string) => void;
const fail = (path: string, what: string): never => {
  throw new Error(`${path}: ${what}`);
};
const num =
  (min = -Infinity, max = Infinity): Check =>
  (v, p) => {
    if (typeof v !== 'number' || !(v >= min && v <= max)) fail(p, `expected a number in [${min}, ${max}], got ${v}`);
  };
const str: Check = (v, p) => {
  if (typeof v !== 'string') fail(p, `expected a string, got ${JSON.stringify(v)}`);
};
const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, `expected a boolean, got ${v}`);
};
const nul: Check = (v, p) => {
  if (v !== null) fail(p, `expected null, got ${v}`);
};
const oneOf =
  (...cs: Check[]): Check =>
  (v, p) => {
    const errors = cs.map((c) => {
      try {
        c(v, p);
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    });
    if (errors.every((e) => e !== null)) fail(p, errors.join(' | '));
  };
const list =
  (item: Check): Check =>
  (v, p) => {
    if (!Array.isArray(v)) fail(p, 'expected a list');
    for (const [i, x] of (v as unknown[]).entries()) item(x, `${p}[${i}]`);
  };
const dict =
  (value: Check): Check =>
  (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(p, 'expected a mapping');
    for (const [k, x] of Object.entries(v as object)) value(x, `${p}.${k}`);
  };
/** A mapping with these fields only (the modifiers forbid extra fields: pydantic extra="forbid"). */
const fields =
  (required: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(p, 'expected a mapping');
    const o = v as Record<string, unknown>;
    for (const [k, c] of Object.entries(required)) {
      if (!(k in o)) fail(p, `missing ${k}`);
      c(o[k], `${p}.${k}`);
    }
    for (const k of Object.keys(o)) {
      if (k in required) continue;
      if (!(k in optional)) fail(p, `unknown field ${k}`);
      optional[k](o[k], `${p}.${k}`);
    }
  };
const nmString: Check = (v, p) => {
  str(v, p);
  if (!/^\d+:\d+$/.test(v as string)) fail(p, `expected N:M, got ${v}`);
};
const sparsity = num(0, 1);

// llm-compressor 0.13.0: SparsityModifierBase + SparseGPTModifier / WandaPruningModifier.
const SPARSITY_BASE = {
  sparsity_profile: oneOf(nul, str),
  owl_m: num(1),
  owl_lmbda: num(0),
  sequential_update: bool,
  targets: oneOf(str, list(str)),
  ignore: list(str),
  index: num(),
  group: str,
  start: num(),
  end: num(),
  update: num(),
};
const SPARSEGPT = fields(
  { sparsity: oneOf(sparsity, list(sparsity)), mask_structure: nmString },
  {
    ...SPARSITY_BASE,
    block_size: num(1),
    dampening_frac: num(0),
    preserve_sparsity_mask: bool,
    offload_hessians: bool,
  },
);
const WANDA = fields({ sparsity: oneOf(sparsity, list(sparsity)), mask_structure: nmString }, SPARSITY_BASE);
// MagnitudePruningModifier + Modifier's start/end/update.
const MAGNITUDE = fields(
  { targets: oneOf(str, list(str)), init_sparsity: sparsity, final_sparsity: sparsity },
  {
    update_scheduler: str,
    scheduler_args: dict(num()),
    mask_structure: str,
    leave_enabled: bool,
    apply_globally: bool,
    index: num(),
    group: str,
    start: num(),
    end: num(),
    update: num(),
  },
);
const MODIFIERS: Record<string, Check> = {
  SparseGPTModifier: SPARSEGPT,
  WandaPruningModifier: WANDA,
  MagnitudePruningModifier: MAGNITUDE,
};
/** stage → modifier group → { ModifierName: fields }. */
const RECIPE: Check = dict(
  dict((v, p) => {
    const mods = Object.entries(v as Record<string, unknown>);
    if (mods.length === 0) fail(p, 'no modifier');
    for (const [name, f] of mods) (MODIFIERS[name] ?? fail(`${p}.${name}`, 'unknown modifier'))(f, `${p}.${name}`);
  }),
);

// Torch-Pruning 1.6.1: BasePruner's keyword arguments, module names for modules.
const TP_ARGS = fields(
  {
    global_pruning: bool,
    pruning_ratio: num(0, 1),
    pruning_ratio_dict: dict(num(0, 1)),
    ignored_layers: list(str),
    num_heads: dict(num(1)),
    prune_num_heads: bool,
    prune_head_dims: bool,
    head_pruning_ratio: num(0, 1),
    head_pruning_ratio_dict: dict(num(0, 1)),
    round_to: oneOf(nul, num(1)),
  },
  { max_pruning_ratio: num(0, 1), iterative_steps: num(1), isomorphic: bool },
);
const TP_IMPORTANCES = [
  'GroupMagnitudeImportance',
  'GroupTaylorImportance',
  'ActivationImportance',
  'MagnitudeImportance',
  'TaylorImportance',
  'RandomImportance',
];
const TORCH_PRUNING: Check = fields({
  torch_pruning: fields({
    version: str,
    pruner: (v, p) => (v === 'BasePruner' ? undefined : fail(p, `unknown pruner ${v}`)),
    importance: fields({
      class: (v, p) => (TP_IMPORTANCES.includes(v as string) ? undefined : fail(p, `unknown importance ${v}`)),
      args: dict(oneOf(num(), str)),
    }),
    args: TP_ARGS,
    remove_blocks: list(num(0)),
    block_list: str,
  }),
});

/** Both YAML versions: PyYAML reads 1.1, where a plain 2:4 is an integer. */
function parsed(text: string): unknown {
  const a = parse(text);
  expect(parse(text, { version: '1.1' })).toEqual(a);
  return a;
}

// ---- The combinations ----

const FAMILIES: [string, ModelConfig][] = [
  ['gpt2', tinyGpt2()],
  ['llama', tinyLlama()],
  ['vit', tinyVit()],
];

const modifierOf = (data: unknown) => {
  const mods = (data as { pruning_stage: { pruning_modifiers: Record<string, Record<string, unknown>> } }).pruning_stage
    .pruning_modifiers;
  const [name, f] = Object.entries(mods)[0];
  return { name, f };
};

describe('llm-compressor recipe', () => {
  const expressible: [MethodId, Partial<PruneRecipe>][] = [
    ['sparsegpt', {}],
    ['sparsegpt', { nm: { n: 2, m: 4 } }],
    ['sparsegpt', { nm: { n: 1, m: 4 } }],
    ['wanda', {}],
    ['wanda', { nm: { n: 2, m: 4 } }],
    ['wanda', { calibrationMode: 'one-shot' }],
    ['magnitude', {}],
  ];
  for (const [kind, config] of FAMILIES.filter(([k]) => k !== 'vit')) {
    for (const [method, extra] of expressible) {
      it(`${kind} ${method} ${JSON.stringify(extra)} parses into the modifier's fields`, () => {
        const recipe = resolvePruneRecipe(
          { method, sparsity: extra.nm ? 1 - extra.nm.n / extra.nm.m : 0.5, ...extra },
          'causal-lm',
        );
        const file = llmCompressorRecipe({ config, recipe, source: 'models/x' });
        expect(file.name).toBe('recipe.yaml');
        const data = parsed(file.text);
        RECIPE(data, 'recipe');
        expect(data).toEqual(file.data);
        const { name, f } = modifierOf(data);
        expect(name).toBe(
          { sparsegpt: 'SparseGPTModifier', wanda: 'WandaPruningModifier', magnitude: 'MagnitudePruningModifier' }[
            method as string
          ],
        );
        if (method === 'magnitude') {
          expect(f.init_sparsity).toBe(0.5);
          expect(f.mask_structure).toBe('unstructured');
        } else {
          // llm-compressor's N names the pruned weights of every M.
          expect(f.mask_structure).toBe(extra.nm ? `${extra.nm.m - extra.nm.n}:${extra.nm.m}` : '0:0');
          expect(f.ignore).toEqual(['re:.*lm_head']);
        }
        expect(file.text).toMatch(/llm-compressor 0\.13\.0/);
        if (kind === 'gpt2') expect(file.text).toMatch(/Conv1D/);
        const prefix = kind === 'gpt2' ? 'transformer.h.' : 'model.layers.';
        const targets = (f.targets as string[]).map((t) => new RegExp(t.replace(/^re:/, '')));
        expect(
          targets.some(
            (t) => t.test(`${prefix}1`) || t.test(`${prefix}1.mlp.${kind === 'gpt2' ? 'c_fc' : 'down_proj'}`),
          ),
        ).toBe(true);
        expect(targets.some((t) => t.test('lm_head'))).toBe(false);
      });
    }
  }

  it('writes one sparsity per block for OWL and the sensitivity allocation, with OWL’s settings named', () => {
    const config = tinyLlama();
    for (const allocation of ['owl', 'sensitivity'] as const) {
      const recipe = resolvePruneRecipe({ method: 'wanda', sparsity: 0.5, allocation }, 'causal-lm');
      const file = llmCompressorRecipe({ config, recipe, blockSparsity: [0.45, 0.55] });
      const data = parsed(file.text);
      RECIPE(data, 'recipe');
      const { f } = modifierOf(data);
      expect(f.sparsity).toEqual([0.45, 0.55]);
      expect(f.targets).toEqual(['re:model\\.layers\\.\\d+$']);
      if (allocation === 'owl') expect(file.text).toMatch(/OWL: M = 5, lambda = 0\.08/);
    }
    // A uniform split is one value.
    const uniform = llmCompressorRecipe({
      config,
      recipe: resolvePruneRecipe({ method: 'sparsegpt', sparsity: 0.3 }, 'causal-lm'),
      blockSparsity: [0.3, 0.3],
    });
    expect(modifierOf(parsed(uniform.text)).f.sparsity).toBe(0.3);
  });

  it('refuses what llm-compressor cannot run, naming both choices, and exits 2 (RecipeError)', () => {
    const cases: [ModelConfig, PruneRecipe, RegExp][] = [
      [tinyLlama(), { method: 'random', sparsity: 0.5 }, /Random.*llm-compressor has no random/],
      [tinyLlama(), { method: 'taylor', sparsity: 0.5 }, /Taylor.*gradient/],
      [tinyLlama(), { method: 'taylor-mean', sparsity: 0.5 }, /Taylor, mean gradient.*gradient/],
      [
        tinyLlama(),
        { method: 'wanda', sparsity: 0.5, scope: 'layer' },
        /WandaPruningModifier.*per output row.*per layer/,
      ],
      [
        tinyLlama(),
        { method: 'magnitude', sparsity: 0.5, scope: 'row' },
        /MagnitudePruningModifier.*per layer.*per output row/,
      ],
      [
        tinyLlama(),
        { method: 'magnitude', sparsity: 0.5, nm: { n: 2, m: 4 } },
        /unstructured masks only.*2:4.*Magnitude/,
      ],
      [tinyLlama(), { method: 'magnitude', sparsity: 0.5, allocation: 'owl' }, /one sparsity.*OWL.*Magnitude/],
      [tinyVit(), { method: 'sparsegpt', sparsity: 0.5 }, /language models.*image model/],
      [
        tinyLlama(),
        {
          method: 'sparsegpt',
          sparsity: 0.5,
          quant: { bits: 4, groupSize: 128, symmetric: false, actOrder: false, quantizer: 'gptq' },
        },
        /prunes only: the quantization \(“GPTQ”\) would be lost/,
      ],
    ];
    for (const [config, r, why] of cases) {
      const recipe = resolvePruneRecipe(r, familyOf(config.kind));
      expect(() => llmCompressorRecipe({ config, recipe })).toThrow(RecipeError);
      expect(() => llmCompressorRecipe({ config, recipe })).toThrow(why);
    }
    const heads = resolveStructuredRecipe({ granularity: 'heads', amount: 0.5 }, 'causal-lm');
    expect(() => writeHandover('llm-compressor', { config: tinyLlama(), recipe: heads })).toThrow(
      /heads.*torch-pruning/,
    );
  });

  it('every catalogue method is either handed over or refused with a reason', () => {
    for (const m of METHODS) {
      const why = handoverRefusal('llm-compressor', { family: 'causal-lm', granularity: 'unstructured', method: m.id });
      expect(why === null || why.includes(m.label)).toBe(true);
    }
  });
});

describe('Torch-Pruning configuration', () => {
  const mha = tinyLlama({ num_key_value_heads: 4 });
  const heads = (rows: number[][]) => ({ heads: rows });

  it('heads: per-layer head ratios, num_heads of q/k/v, the output head ignored (Llama, ViT)', () => {
    for (const config of [mha, tinyVit()]) {
      const h = config.kind === 'vit' ? 3 : 4;
      const recipe = resolveStructuredRecipe(
        { granularity: 'heads', amount: 0.25, scope: 'global' },
        familyOf(config.kind),
      );
      const rows = [Array.from({ length: h }, (_, i) => (i === 0 ? 0 : 1)), Array.from({ length: h }, () => 1)];
      const file = torchPruningConfig({ config, recipe, structure: heads(rows) });
      expect(file.name).toBe('torch_pruning.yaml');
      const data = parsed(file.text) as { torch_pruning: { args: Record<string, unknown> } };
      TORCH_PRUNING(data, 'config');
      const a = data.torch_pruning.args;
      expect(a.prune_num_heads).toBe(true);
      expect(a.prune_head_dims).toBe(false);
      expect(a.pruning_ratio).toBe(0);
      const attn = config.kind === 'vit' ? 'vit.encoder.layer.0.attention' : 'model.layers.0.self_attn';
      expect((a.head_pruning_ratio_dict as Record<string, number>)[attn]).toBeCloseTo(1 / h, 5);
      expect(Object.values(a.num_heads as Record<string, number>).every((n) => n === h)).toBe(true);
      expect(a.ignored_layers).toEqual([config.kind === 'vit' ? 'classifier' : 'lm_head']);
      expect(file.text).toMatch(/Torch-Pruning 1\.6\.1/);
    }
  });

  it('FFN neurons: per-layer channel ratios on the FFN input projections (GPT-2, Llama, ViT)', () => {
    for (const [kind, config] of FAMILIES) {
      const recipe = resolveStructuredRecipe({ granularity: 'neurons', amount: 0.5 }, familyOf(config.kind));
      const inner = config.kind === 'gpt2' ? config.nInner : config.intermediateSize;
      const neurons = [
        Array.from({ length: inner }, (_, i) => (i % 2 ? 1 : 0)),
        Array.from({ length: inner }, () => 1),
      ];
      const file = torchPruningConfig({ config, recipe, structure: { neurons } });
      const data = parsed(file.text) as { torch_pruning: { args: { pruning_ratio_dict: Record<string, number> } } };
      TORCH_PRUNING(data, 'config');
      const dict = data.torch_pruning.args.pruning_ratio_dict;
      const first = {
        gpt2: 'transformer.h.0.mlp.c_fc',
        llama: 'model.layers.0.mlp.gate_proj',
        vit: 'vit.encoder.layer.0.intermediate.dense',
      }[kind]!;
      expect(dict[first]).toBe(0.5);
      expect(Object.values(dict).filter((v) => v === 0).length).toBeGreaterThan(0);
    }
  });

  it('blocks: the removed blocks listed beside the pruner arguments', () => {
    const config = tinyGpt2();
    const recipe = resolveStructuredRecipe({ granularity: 'blocks', amount: 0.5 }, 'causal-lm');
    const file = torchPruningConfig({ config, recipe, structure: { attention: [true, false], mlp: [true, false] } });
    const data = parsed(file.text) as { torch_pruning: { remove_blocks: number[]; block_list: string } };
    TORCH_PRUNING(data, 'config');
    expect(data.torch_pruning.remove_blocks).toEqual([1]);
    expect(data.torch_pruning.block_list).toBe('transformer.h');
  });

  it('refuses what Torch-Pruning cannot express, naming both choices', () => {
    const cases: [ModelConfig, Parameters<typeof resolveStructuredRecipe>[0] | PruneRecipe, RegExp][] = [
      [mha, { method: 'wanda', sparsity: 0.5 }, /Unstructured.*llm-compressor/],
      [mha, { granularity: 'sublayers', amount: 0.25 }, /Sublayers.*sublayer alone/],
      [mha, { granularity: 'tokens', amount: 0.25 }, /Tokens.*token pruning/],
      [mha, { granularity: 'heads', amount: 0.25, score: 'entropy' }, /attention entropy.*Torch-Pruning/],
      [tinyGpt2(), { granularity: 'heads', amount: 0.5 }, /GPT-2.*c_attn/],
      [tinyLlama(), { granularity: 'heads', amount: 0.5 }, /grouped-query/],
    ];
    for (const [config, r, why] of cases) {
      const family = familyOf(config.kind);
      const recipe = 'granularity' in r ? resolveStructuredRecipe(r, family) : resolvePruneRecipe(r, family);
      expect(() => torchPruningConfig({ config, recipe })).toThrow(RecipeError);
      expect(() => torchPruningConfig({ config, recipe })).toThrow(why);
    }
  });
});
