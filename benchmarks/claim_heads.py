"""Claim 1 (seed papers): a digit-decoding head against regression heads on the same encoder.

    python -m benchmarks.claim_heads [--train 300] [--test 1000] [--epochs 25] [--seeds 0]
        [--heads digits mse_raw mse_norm] [--out claim_heads] [--report]

One model per head is trained jointly on targets of very different scales: NB201 cifar10 /
cifar100 accuracy (%), NB201 latencies on three devices (ms) and FBNet latencies on two
(ms). The task's name is the start of the encoder's input, as in the RLM. Heads:
(a) ``digits``: the RLM's decoder, cross-entropy on number tokens, greedy decode;
(b) ``mse_raw``: mean-pooled encoder memory -> MLP -> one number, MSE on raw targets;
(c) ``mse_norm``: the same with each task's targets standardized on its training rows.
All three share the tokenizer, encoder sizes, initialization seed, optimizer (AdamW, lr 1e-3,
warm-up then cosine), batch size and epoch budget, with early stopping on the validation
rows' mean Spearman (the RLM's own rule: Kendall tau). Spearman on the test cells of each
task. Each (head, seed) is added to results/OUT.json as it finishes; a rerun with the same
cells and epochs measures only what is missing. The table (Spearman per task and head) and
results/OUT.png come from that file alone; ``--report`` only prints and draws them. The task
list, the splits and the digits head come from :mod:`benchmarks.claims`, shared by the claims.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr
from torch import nn

from benchmarks.claims import (
    SIZES,
    TASKS,
    TEST_CELLS,
    Data,
    corpus_of,
    fit_digits,
    resume_claim,
    settings,
    spearman,
    splits,
)
from benchmarks.common import (
    add_record,
    arguments,
    figure,
    fresh_rlm,
    machine,
    saved,
)
from searchlab.rlm.train import TrainConfig


class PooledRegressor(nn.Module):
    """The RLM's encoder, mean-pooled, under a two-layer MLP giving one number."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net  # only its encoder is used
        d = net.cfg.d_model
        self.mlp = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, 1))

    def forward(self, ids: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """One prediction per input row."""
        memory, _ = self.net.encode(ids, pad)
        keep = (~pad).unsqueeze(-1).float()
        pooled = (memory * keep).sum(1) / keep.sum(1).clamp_min(1.0)
        return self.mlp(pooled).squeeze(-1)


def fit_regressor(
    rlm: Any, data: Data, normalize: bool, epochs: int, seed: int, log: Callable[[str], None]
) -> dict:
    """Train a pooled MSE head jointly on every task; test predictions per task."""
    torch.manual_seed(seed)
    model = PooledRegressor(rlm.net)
    stats = {t: (0.0, 1.0) for t in data}
    if normalize:
        stats = {
            t: (float(d["train"][1].mean()), float(d["train"][1].std() or 1.0))
            for t, d in data.items()
        }
    rlm.batcher.warm([x for d in data.values() for part in d.values() for x in part[0]])
    rows = [(text, t[1], (v - stats[t][0]) / stats[t][1]) for t, d in data.items()
            for text, v in zip(*d["train"])]  # fmt: skip
    cfg = TrainConfig(seed=seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = epochs * math.ceil(len(rows) / cfg.batch_size)
    warm = min(cfg.warmup_steps, steps // 10)

    def lr_at(step: int) -> float:
        if step < warm:
            return cfg.lr * (step + 1) / warm
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))

    def predict(task, texts):  # noqa: ANN001, ANN202
        model.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), 256):
                ids, pad = rlm.batcher.batch([(t, (task[1],)) for t in texts[i : i + 256]])
                out.append(model(ids, pad).numpy())
        model.train()
        mean, std = stats[task]
        return np.concatenate(out) * std + mean

    best, best_state, bad, step = -2.0, None, 0, 0
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        for batch in np.array_split(rng.permutation(len(rows)), math.ceil(len(rows) / 32)):
            ids, pad = rlm.batcher.batch([(rows[i][0], (rows[i][1],)) for i in batch])
            target = torch.tensor([rows[i][2] for i in batch], dtype=torch.float32)
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            loss = F.mse_loss(model(ids, pad), target)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            step += 1
        # unrounded (not common.rank_scores): it decides early stopping, as when measured
        val = np.mean([spearmanr(predict(t, d["val"][0]), d["val"][1]).statistic
                       for t, d in data.items()])  # fmt: skip
        log(f"  epoch {epoch}: loss {loss.item():.4g}, val rho {val:.3f}")
        if val > best:
            best, bad = val, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    model.load_state_dict(best_state)
    return {t: predict(t, d["test"][0]) for t, d in data.items()}


def main() -> None:
    """Train the heads results/OUT.json lacks (unless --report), then print and draw it."""
    parser = arguments(__doc__, seeds=(0,), out="claim_heads", epochs=25)
    parser.add_argument("--train", type=int, default=300, help="cells per task (20 %% val)")
    parser.add_argument("--test", type=int, default=TEST_CELLS)
    parser.add_argument("--heads", nargs="+", default=["digits", "mse_raw", "mse_norm"])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if not args.report:
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Train each (head, seed) missing from results/OUT.json and add its record."""
    log = print if args.verbose else (lambda s: None)
    print(f"{len(TASKS)} tasks, {args.train} cells each; {machine()}")
    records = resume_claim(args.out, args)
    for seed in args.seeds:
        heads = [h for h in args.heads if not any((r["head"], r["seed"]) == (h, seed)
                                                  for r in records)]  # fmt: skip
        if not heads:
            continue
        data = splits(args.train, args.test, seed)
        corpus = corpus_of(data, seed)
        for head in heads:
            start = time.perf_counter()
            # the same tokenizer and initial weights for every head
            rlm = fresh_rlm(corpus, seed, **SIZES)
            if head == "digits":
                preds = fit_digits(rlm, data, args.epochs, seed, log)
            else:
                preds = fit_regressor(rlm, data, head == "mse_norm", args.epochs, seed, log)
            seconds = time.perf_counter() - start
            rhos = spearman(preds, data)
            mean = float(np.mean(list(rhos.values())))
            record = {"head": head, "seed": seed, "spearman": rhos, "mean": mean,
                      "seconds": seconds}  # fmt: skip
            records = add_record(args.out, record, ("head", "seed"), machine=machine(),
                                 tasks=TASKS, **settings(args))  # fmt: skip
            detail = " ".join(f"{k.split(':')[1]} {v:.3f}" for k, v in rhos.items())
            print(
                f"seed {seed} {head:9} mean rho {mean:.3f} ({seconds:.0f}s)  {detail}", flush=True
            )


def report(out: str) -> None:
    """Print the table and draw results/OUT.png from results/OUT.json alone."""
    payload = saved(out)
    records = payload["records"]
    heads = list(dict.fromkeys(r["head"] for r in records))
    seeds = sorted({r["seed"] for r in records})

    def line(label: str, value: Callable[[dict], float], fmt: str = "10.3f") -> None:
        means = [np.mean([value(r) for r in records if r["head"] == h]) for h in heads]
        print(f"{label:28}" + "".join(f"{m:{fmt}}" for m in means))

    print(f"\ntest Spearman per task (mean over seeds {seeds})")
    print(f"{'task':28}" + "".join(f"{h:>10}" for h in heads))
    tasks = [f"{space}:{column}" for space, column in payload.get("tasks", TASKS)]
    for task in tasks:
        line(task, lambda r, task=task: r["spearman"][task])
    line("mean", lambda r: r["mean"])
    line("training minutes", lambda r: r["seconds"] / 60, "10.0f")
    plot(records, out, tasks)


def plot(records: list[dict], out: str, tasks: list[str]) -> None:
    """Mean Spearman per head (bars), with the per-task values as dots in task order."""
    heads = list(dict.fromkeys(r["head"] for r in records))
    with figure(out, size=(4.5, 3)) as (ax,):
        for i, head in enumerate(heads):
            rows = [r for r in records if r["head"] == head]
            ax.bar(i, np.mean([r["mean"] for r in rows]), color="tab:blue", alpha=0.6)
            vals = [r["spearman"][t] for r in rows for t in tasks]
            ax.scatter(np.full(len(vals), i) + np.linspace(-0.2, 0.2, len(vals)), vals, s=8,
                       c="k")  # fmt: skip
        ax.set_xticks(range(len(heads)), heads)
        ax.set_ylabel("test Spearman (per task; bar: mean)")
        ax.set_ylim(0, 1)


if __name__ == "__main__":
    main()
