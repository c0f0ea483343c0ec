"""Claim 2 (seed papers): encoder-decoder against decoder-only at equal parameter count.

    python -m benchmarks.claim_decoder_only [--train 300] [--test 1000] [--epochs 25] [--seeds 0]
        [--archs encoder-decoder decoder-only] [--out claim_decoder_only] [--report]

Both models read the same token sequence (task name, then the candidate's ONNX text) and
decode the same digit tokens under the same constrained greedy decoding, trained jointly on
the seven tasks of claim 1 (NB201 accuracies, NB201 and FBNet latencies: very different
scales) with the RLM's own training loop. The decoder-only model is one stack of layers over
[input ; number tokens] with a prefix-LM mask: the input attends bidirectionally to itself,
each number token to the whole input and causally to the number tokens before it. Its depth
is chosen so its parameter count is the nearest to the encoder-decoder's (3 + 2 layers,
d_model 128). Spearman on the test cells of each task. Each (arch, seed) is added to
results/OUT.json as it finishes. The encoder-decoder is claim 1's ``digits`` head, trained
identically: its row is read from results/claim_heads.json when that run used the same seed,
cells and epochs, and rows of an earlier run into OUT with the same settings are kept, so only
what is missing is trained. The table (Spearman per task and architecture) and results/OUT.png
come from that file alone; ``--report`` only prints and draws them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from benchmarks.claims import (
    SIZES,
    TASKS,
    corpus_of,
    fit_digits,
    resume_claim,
    same_settings,
    settings,
    spearman,
    splits,
)
from benchmarks.common import add_record, arguments, figure, fresh_rlm, load, machine, saved
from searchlab.rlm.model import EncoderLayer, RlmConfig, RlmNetwork

ARCHS = ("encoder-decoder", "decoder-only")
IDENT = ("arch", "seed")


class PrefixLM(nn.Module):
    """Decoder-only transformer with a bidirectional input prefix, shaped like RlmNetwork.

    It offers RlmNetwork's decoding interface, so the RLM's training loop and constrained
    KV-cached sampler run it unchanged: ``encode`` runs the input through every layer and
    keeps each layer's keys/values of the input (the input never attends to the numbers, so
    they do not change while decoding); ``decode`` lets number tokens attend to those and to
    the number tokens before them, in one softmax per layer.
    """

    def __init__(self, cfg: RlmConfig, layers: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.bos = cfg.num_vocab
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.enc_pos = nn.Embedding(cfg.max_input, cfg.d_model)
        self.num_embed = nn.Embedding(cfg.num_vocab + 1, cfg.d_model)
        self.dec_pos = nn.Embedding(cfg.max_output, cfg.d_model)
        self.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.num_vocab)
        self.apply(RlmNetwork._init)

    def encode(self, ids: torch.Tensor, pad: torch.Tensor) -> tuple[list, torch.Tensor]:
        """Per-layer keys/values of the input and its mask [B, 1, 1, S] (True = attend)."""
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.embed(ids) + self.enc_pos(pos)
        mask = (~pad)[:, None, None, :]
        kvs = []
        for layer in self.layers:
            h = layer.ln1(x)
            k, v = layer.attn.keys_values(h)
            kvs.append((k, v))
            x = x + layer.attn.attend(h, k, v, mask)
            x = x + layer.mlp(layer.ln2(x))
        return kvs, mask

    def cross_kv(self, memory: list) -> list:
        """The input's keys/values are already per layer."""
        return memory

    def encoded(self, ids: torch.Tensor, pad: torch.Tensor) -> tuple[list, torch.Tensor]:
        """What decoding needs of the inputs (as ``RlmNetwork.encoded``)."""
        return self.encode(ids, pad)

    def decode(
        self,
        dec_ids: torch.Tensor,
        cross: list,
        mem_mask: torch.Tensor,
        samples: int = 1,
        start: int = 0,
        cache: list | None = None,
    ) -> torch.Tensor:
        """Logits [B*samples, T, num_vocab] of number tokens at positions start..start+T-1."""
        n, t = dec_ids.shape
        pos = torch.arange(start, start + t, device=dec_ids.device)
        x = self.num_embed(dec_ids) + self.dec_pos(pos)
        end = start + t
        causal = torch.ones(t, end, dtype=torch.bool, device=x.device).tril(start)
        prefix_mask = mem_mask.repeat_interleave(samples, 0).expand(n, 1, t, -1)
        mask = torch.cat([prefix_mask, causal.expand(n, 1, t, end)], dim=-1)
        for i, layer in enumerate(self.layers):
            h = layer.ln1(x)
            k, v = layer.attn.keys_values(h)
            if cache is not None:
                cache[i][0][:, :, start:end] = k
                cache[i][1][:, :, start:end] = v
                k, v = cache[i][0][:, :, :end], cache[i][1][:, :, :end]
            pk, pv = (z.repeat_interleave(samples, 0) for z in cross[i])
            x = x + layer.attn.attend(h, torch.cat([pk, k], 2), torch.cat([pv, v], 2), mask)
            x = x + layer.mlp(layer.ln2(x))
        return self.head(self.ln_f(x))

    def new_cache(self, batch: int, device: torch.device, length: int | None = None) -> list:
        """Empty keys/values of the number tokens, per layer."""
        length = length or self.cfg.max_output
        shape = (batch, self.cfg.n_heads, length, self.cfg.d_model // self.cfg.n_heads)
        return [(torch.zeros(shape, device=device), torch.zeros(shape, device=device))
                for _ in self.layers]  # fmt: skip

    def forward(self, ids: torch.Tensor, pad: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits [B, T, num_vocab] predicting ``targets`` [B, T]."""
        memory, mask = self.encode(ids, pad)
        start = torch.full_like(targets[:, :1], self.bos)
        return self.decode(torch.cat([start, targets[:, :-1].clamp(min=0)], 1), memory, mask)

    def num_parameters(self) -> int:
        """Trainable parameter count."""
        return sum(p.numel() for p in self.parameters())


def matched_prefix_lm(net: RlmNetwork, seed: int) -> PrefixLM:
    """The decoder-only model whose parameter count is nearest to ``net``'s."""
    target = net.num_parameters()
    best = None
    for layers in range(1, 2 * (net.cfg.enc_layers + net.cfg.dec_layers) + 1):
        torch.manual_seed(seed)
        candidate = PrefixLM(net.cfg, layers)
        if best is None or abs(candidate.num_parameters() - target) < abs(
            best.num_parameters() - target
        ):
            best = candidate
    return best


def main() -> None:
    """Train the models results/OUT.json lacks (unless --report), then print and draw it."""
    parser = arguments(__doc__, seeds=(0,), out="claim_decoder_only", epochs=25)
    parser.add_argument("--train", type=int, default=300, help="cells per task (20 %% val)")
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--archs", nargs="+", default=list(ARCHS), choices=ARCHS)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if not args.report:
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Train each (arch, seed) missing from results/OUT.json and add its record."""
    log = print if args.verbose else (lambda s: None)
    print(f"{len(TASKS)} tasks, {args.train} cells each; {machine()}")
    records = measured(args)
    top = {"machine": machine(), "tasks": TASKS, **settings(args)}
    for seed in args.seeds:
        todo = [a for a in args.archs if not any(r["arch"] == a and r["seed"] == seed
                                                 for r in records)]  # fmt: skip
        uncounted = [r for r in records if r["seed"] == seed and not r["params"]]
        if not todo and not uncounted:
            continue
        data = splits(args.train, args.test, seed)
        corpus = corpus_of(data, seed)
        for r in uncounted:  # a row read from claim_heads.json lacks the count
            r["params"] = fresh_rlm(corpus, seed, **SIZES).net.num_parameters()
            records = add_record(args.out, r, IDENT, replace=True, **top)
        for arch in todo:
            start = time.perf_counter()
            rlm = fresh_rlm(corpus, seed, **SIZES)
            if arch == "decoder-only":
                rlm.net = matched_prefix_lm(rlm.net, seed)
            params = rlm.net.num_parameters()
            preds = fit_digits(rlm, data, args.epochs, seed, log)
            rhos = spearman(preds, data)
            mean = float(np.mean(list(rhos.values())))
            seconds = time.perf_counter() - start
            layers = len(getattr(rlm.net, "layers", [])) or f"{SIZES['enc_layers']}+2"
            record = {"arch": arch, "seed": seed, "params": params, "layers": layers,
                      "spearman": rhos, "mean": mean, "seconds": seconds}  # fmt: skip
            records = add_record(args.out, record, IDENT, **top)
            detail = " ".join(f"{k.split(':')[1]} {v:.3f}" for k, v in rhos.items())
            print(f"seed {seed} {arch:15} {params:,} params, {layers} layers: mean rho "
                  f"{mean:.3f} ({seconds:.0f}s)  {detail}", flush=True)  # fmt: skip


def measured(args: argparse.Namespace) -> list[dict]:
    """Rows already measured: this script's earlier run, and claim 1's identical digits head."""
    records = resume_claim(args.out, args)
    if (old := load("claim_heads")) and same_settings(old, args):
        for r in old["records"]:
            have = any(x["arch"] == "encoder-decoder" and x["seed"] == r["seed"] for x in records)
            if r["head"] == "digits" and r["seed"] in args.seeds and not have:
                records.append({"arch": "encoder-decoder", "seed": r["seed"],
                                "params": r.get("params"), "layers": f"{SIZES['enc_layers']}+2",
                                "spearman": r["spearman"], "mean": r["mean"],
                                "seconds": r["seconds"], "source": "claim_heads.json"})  # fmt: skip
    for r in records:
        print(f"kept: seed {r['seed']} {r['arch']} mean rho {r['mean']:.3f}"
              f" ({r.get('source', args.out + '.json')})")  # fmt: skip
    return records


def report(out: str) -> None:
    """Print the table and draw results/OUT.png from results/OUT.json alone."""
    payload = saved(out)
    records = payload["records"]
    archs = [a for a in ARCHS if any(r["arch"] == a for r in records)]
    width = 38

    def line(label: str, cells: list[str]) -> None:
        print(f"{label:28}" + "".join(f"{c:>{width}}" for c in cells))

    def mean(arch: str, value: Callable[[dict], float]) -> float:
        return float(np.mean([value(r) for r in records if r["arch"] == arch]))

    seeds = sorted({r["seed"] for r in records})
    print(f"\ntest Spearman per task (mean over seeds {seeds})")
    line("task", [f"{a} ({size(records, a)})" for a in archs])
    for task in (f"{space}:{column}" for space, column in payload.get("tasks", TASKS)):
        line(task, [f"{mean(a, lambda r, task=task: r['spearman'][task]):.3f}" for a in archs])
    line("mean", [f"{mean(a, lambda r: r['mean']):.3f}" for a in archs])
    line("training minutes", [f"{mean(a, lambda r: r['seconds']) / 60:.0f}" for a in archs])
    plot(records, out)


def size(records: list[dict], arch: str) -> str:
    """An architecture's parameter count and layers, as '1.47 M, 3+2 layers'."""
    row = next(r for r in records if r["arch"] == arch)
    params = f"{row['params'] / 1e6:.2f} M, " if row.get("params") else ""
    return f"{params}{row['layers']} layers"


def short_label(task: str) -> str:
    """'nb201:lat_ms_hwnb_pixel3' -> 'nb201\\npixel3 lat.' (axis labels that do not overlap)."""
    space, column = task.split(":")
    for prefix, kind in (("lat_ms_hwnb_", "lat."), ("lat_ms_", "lat."), ("acc_", "acc.")):
        if column.startswith(prefix):
            return f"{space}\n{column[len(prefix) :].removesuffix('_test')} {kind}"
    return f"{space}\n{column}"


def plot(records: list[dict], out: str) -> None:
    """Per-task Spearman of both architectures, side by side."""
    tasks = list(records[0]["spearman"])
    with figure(out, size=(7, 3.2)) as (ax,):
        for j, arch in enumerate(ARCHS):
            rows = [r for r in records if r["arch"] == arch]
            if not rows:
                continue
            vals = [np.mean([r["spearman"][t] for r in rows]) for t in tasks]
            params = rows[0]["params"]
            label = arch + (f" ({params / 1e6:.2f} M)" if params else "")
            ax.bar(np.arange(len(tasks)) + 0.4 * j - 0.2, vals, width=0.4, label=label)
        ax.set_xticks(range(len(tasks)), [short_label(t) for t in tasks], fontsize=7)
        ax.set_ylabel("test Spearman")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7)


if __name__ == "__main__":
    main()
