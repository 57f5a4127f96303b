"""An exported LoRA recovery checked by the libraries a researcher loads it with: transformers and peft.

    python scripts/check-peft.py BASE RECOVERED REPORT.json EVAL.safetensors

For the default text model, in a Python with torch, transformers, peft and safetensors:
    npx tsx src/cli/main.ts export --model public/models/gpt-bytes --method wanda --sparsity 0.7 --out /tmp/hf/base
    npx tsx src/cli/main.ts export --model public/models/gpt-bytes --method wanda --sparsity 0.7 \
      --recover lora --recover-steps 40 --recover-data train --out /tmp/hf/lora --json > /tmp/hf/lora.json
    python scripts/check-peft.py /tmp/hf/base /tmp/hf/lora /tmp/hf/lora.json public/models/gpt-bytes/eval.safetensors
and for the Llama family (grouped-query attention, llama3 rope scaling), a small byte-level Llama:
    npx tsx scripts/tiny-llama-bytes.ts /tmp/hf/llama
    (the two exports above with --model /tmp/hf/llama --sparsity 0.5 --recover-steps 30 --recover-lr 0.01,
     into /tmp/hf/llama-base and /tmp/hf/llama-lora)
    python scripts/check-peft.py /tmp/hf/llama-base /tmp/hf/llama-lora /tmp/hf/llama-lora.json /tmp/hf/llama/eval.safetensors

BASE is the pruned model exported without recovery (`export` with the same recipe), RECOVERED the
same recipe exported with `--recover lora` (its adapter/ folder is PEFT's format), REPORT.json that
export's `--json` output. Checks, each printed with its figure:
  1. peft loads adapter/ onto BASE with every adapter tensor in place (none missing, none left over);
  2. PEFT's merge_and_unload() of it, with the recipe's mask applied again (masks.safetensors), is
     RECOVERED's weights (max |difference|, against 1e-5);
  3. transformers on RECOVERED gives the bits per byte the workbench reported after recovery, on
     the same windows of the eval set (non-overlapping windows of the model's context), to 1e-3;
  4. for the record, not a check: the adapter on BASE as PEFT runs it, without the mask (PEFT adds
     the low-rank update to the removed weights too, as recipe.json says).
Byte-level models only (token id = byte value, no special tokens). Exits 1 when a check fails.
"""

import json
import math
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def bits_per_byte(model, data: torch.Tensor, context: int) -> float:
    windows = (len(data) - 1 - context) // context + 1
    total = 0.0
    scored = 0
    with torch.no_grad():
        for first in range(0, windows, 16):
            rows = range(first, min(windows, first + 16))
            x = torch.stack([data[w * context : w * context + context] for w in rows])
            y = torch.stack([data[w * context + 1 : w * context + context + 1] for w in rows])
            logits = model(input_ids=x).logits.float()
            total += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
            scored += y.numel()
    return total / scored / math.log(2)


def main() -> int:
    base_dir, recovered_dir, report_path, eval_path = sys.argv[1:5]
    report = json.load(open(report_path))["recipe"]["recovery"]
    failed = False

    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    peft_model = PeftModel.from_pretrained(base, f"{recovered_dir}/adapter")
    adapter = load_file(f"{recovered_dir}/adapter/adapter_model.safetensors")
    state = peft_model.state_dict()
    loaded = {k for k in state if ".lora_" in k}
    expected = {k.replace(".weight", ".default.weight") for k in adapter}
    differ = [k for k in adapter if not torch.equal(state[k.replace(".weight", ".default.weight")], adapter[k])]
    ok = loaded == expected and not differ
    failed |= not ok
    print(f"1. peft {__import__('peft').__version__} loads {len(adapter)} adapter tensors onto the pruned base: {'ok' if ok else 'FAILED'}"
          f" (missing {len(expected - loaded)}, left over {len(loaded - expected)}, different {len(differ)})")

    data = load_file(eval_path)["bytes"].to(torch.long)
    context = base.config.n_positions if hasattr(base.config, "n_positions") else base.config.max_position_embeddings
    unmasked = bits_per_byte(peft_model, data, context)

    merged = peft_model.merge_and_unload().state_dict()
    recovered = load_file(f"{recovered_dir}/model.safetensors")
    masks = load_file(f"{recovered_dir}/masks.safetensors")
    worst = max((merged[n] * masks[n].to(torch.float32) - recovered[n].float()).abs().max().item() for n in masks)
    ok = worst < 1e-5
    failed |= not ok
    print(f"2. merge_and_unload() with the mask applied again = the exported weights over {len(masks)} linears: "
          f"max |difference| {worst:.2e} {'ok' if ok else 'FAILED'} (bar 1e-5)")

    model = AutoModelForCausalLM.from_pretrained(recovered_dir, dtype=torch.float32)
    theirs = bits_per_byte(model, data, context)
    ours = report["after"]["bitsPerByte"]
    ok = abs(theirs - ours) < 1e-3
    failed |= not ok
    print(f"3. transformers {__import__('transformers').__version__} on the recovered checkpoint: {theirs:.5f} bits/byte, "
          f"the workbench {ours:.5f} ({abs(theirs - ours):.1e} apart) {'ok' if ok else 'FAILED'} (bar 1e-3)")
    print(f"4. the adapter on the pruned base as PEFT runs it (no mask): {unmasked:.5f} bits/byte "
          f"(pruned, before recovery: {report['before']['bitsPerByte']:.5f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
