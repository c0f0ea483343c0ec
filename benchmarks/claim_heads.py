"""Claim 1 (seed papers): a digit-decoding head against regression heads on the same encoder.

    python -m benchmarks.claim_heads [--train 300] [--test 1000] [--epochs 25] [--seeds 0]

One model per head is trained jointly on targets of very different scales: NB201 cifar10 /
cifar100 accuracy (%), NB201 latencies on three devices (ms) and FBNet latencies on two
(ms). The task's name is the start of the encoder's input, as in the RLM. Heads:
(a) ``digits``: the RLM's decoder, cross-entropy on number tokens, greedy decode;
(b) ``mse_raw``: mean-pooled encoder memory -> MLP -> one number, MSE on raw targets;
(c) ``mse_norm``: the same with each task's targets standardized on its training rows.
All three share the tokenizer, encoder sizes, initialization seed, optimizer (AdamW, lr 1e-3,
warm-up then cosine), batch size and epoch budget, with early stopping on the validation
rows' mean Spearman (the RLM's own rule: Kendall tau). Spearman on the test cells of each
task. Saves results/claim_heads.{json,png}.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr
from torch import nn

from benchmarks.common import RESULTS, machine, save
from searchlab import load_space
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig

TASKS = [
    ("nb201", "acc_cifar10_test"),
    ("nb201", "acc_cifar100_test"),
    ("nb201", "lat_ms_hwnb_pixel3"),
    ("nb201", "lat_ms_hwnb_eyeriss"),
    ("nb201", "lat_ms_hwnb_fpga"),
    ("fbnet", "lat_ms_pixel3"),
    ("fbnet", "lat_ms_gold_6226"),
]
SIZES = {"d_model": 128, "n_heads": 4, "enc_layers": 3, "dec_layers": 2, "max_input": 512}


def splits(n_train: int, n_test: int, seed: int) -> dict[tuple[str, str], dict]:
    """Per task: train / validation / test texts and values (disjoint cells)."""
    out, spaces = {}, {}
    for space_name, column in TASKS:
        if space_name not in spaces:
            spaces[space_name] = load_space(space_name).benchmark()
        table = spaces[space_name]
        rows = np.random.default_rng([seed, len(out)]).permutation(len(table))
        n_val = n_train // 5
        parts = {"train": rows[: n_train - n_val], "val": rows[n_train - n_val : n_train]}
        parts["test"] = rows[n_train : n_train + n_test]
        values = table.column(column)
        out[(space_name, column)] = {
            name: ([c.text for c in table.candidates(r)], values[r]) for name, r in parts.items()
        }
    return out


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


def fit_regressor(rlm, data, normalize: bool, epochs: int, seed: int, log) -> dict:  # noqa: ANN001
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


def fit_digits(rlm, data, epochs: int, seed: int, log) -> dict:  # noqa: ANN001
    """Train the RLM (digit decoder) jointly on every task; greedy test predictions."""

    def examples(part: str) -> list[Example]:
        return [Example(text, (t[1],), (float(v),)) for t, d in data.items()
                for text, v in zip(*d[part])]  # fmt: skip

    cfg = TrainConfig(epochs=epochs, seed=seed)
    rlm.fit(examples("train"), examples("val"), cfg, log=log, extend_tokenizer=False)
    return {
        t: rlm.predict(d["test"][0], [t[1]], k=1, temperature=0.0).median()[:, 0]
        for t, d in data.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=300, help="cells per task (20 %% val)")
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--heads", nargs="+", default=["digits", "mse_raw", "mse_norm"])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    log = print if args.verbose else (lambda s: None)
    print(f"{len(TASKS)} tasks, {args.train} cells each; {machine()}")
    records = []
    for seed in args.seeds:
        data = splits(args.train, args.test, seed)
        corpus = tokenizer_corpus(seed=seed) + [x for d in data.values() for x in d["train"][0]]
        for head in args.heads:
            start = time.perf_counter()
            # the same tokenizer and initial weights for every head
            rlm = RegressionLanguageModel.create(corpus, seed=seed, device="cpu", **SIZES)
            if head == "digits":
                preds = fit_digits(rlm, data, args.epochs, seed, log)
            else:
                preds = fit_regressor(rlm, data, head == "mse_norm", args.epochs, seed, log)
            seconds = time.perf_counter() - start
            rhos = {}
            for space_name, column in TASKS:
                truth = data[(space_name, column)]["test"][1]
                rho = spearmanr(preds[(space_name, column)], truth).statistic
                rhos[f"{space_name}:{column}"] = float(rho)
            mean = float(np.mean(list(rhos.values())))
            records.append(
                {"head": head, "seed": seed, "spearman": rhos, "mean": mean, "seconds": seconds}
            )
            detail = " ".join(f"{k.split(':')[1]} {v:.3f}" for k, v in rhos.items())
            print(
                f"seed {seed} {head:9} mean rho {mean:.3f} ({seconds:.0f}s)  {detail}", flush=True
            )
    save("claim_heads", {"machine": machine(), "records": records, "tasks": TASKS,
                         "train_cells": args.train, "test_cells": args.test,
                         "epochs": args.epochs})  # fmt: skip
    plot(records)


def plot(records: list[dict]) -> None:
    """Mean Spearman per head (bars), with the per-task values as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    heads = list(dict.fromkeys(r["head"] for r in records))
    fig, ax = plt.subplots(figsize=(4.5, 3))
    for i, head in enumerate(heads):
        rows = [r for r in records if r["head"] == head]
        ax.bar(i, np.mean([r["mean"] for r in rows]), color="tab:blue", alpha=0.6)
        vals = [v for r in rows for v in r["spearman"].values()]
        ax.scatter(np.full(len(vals), i) + np.linspace(-0.2, 0.2, len(vals)), vals, s=8, c="k")
    ax.set_xticks(range(len(heads)), heads)
    ax.set_ylabel("test Spearman (per task; bar: mean)")
    ax.set_ylim(0, 1)
    fig.tight_layout()
    fig.savefig(RESULTS / "claim_heads.png", dpi=110)


if __name__ == "__main__":
    main()
