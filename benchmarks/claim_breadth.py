"""Claim 4 (seed papers): broader pretraining transfers better to a device never seen.

    python -m benchmarks.claim_breadth [--breadths 1 4 23] [--shots 8 16 32 64 128] [--seeds 0]
        [--pretrain-cells 600] [--steps 1500] [--test 2000] [--epochs 40] [--report]

NB201 cells. The new device is pixel3 (``lat_ms_hwnb_pixel3``); the pretraining devices are
drawn (nested, by the seed) from the other 23 NB201 latency columns. Each breadth pretrains
the same network (d_model 128, 3 + 2 layers) from scratch on the same pretraining cells with
the same number of optimizer steps (``--steps``), so a broader model sees more distinct
(cell, device) rows, not more updates. Each pretrained model and a randomly initialized twin
(same tokenizer, same sizes) are then fine-tuned on 8..128 pixel3 cells for at most
``--epochs`` epochs with the rules of ``searchlab fit`` (``common.fit_rlm``, as
``benchmarks.few_shot``) and scored by Spearman on test cells. Pretraining, fine-tuning and
test cells are disjoint. Each (seed, breadth, shots) is added to results/OUT.json as it
finishes; a rerun with the same settings measures only what is missing. The table (Spearman
per breadth and shot count) and results/OUT.png come from that file alone; ``--report`` only
prints and draws them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.claims import SIZES
from benchmarks.common import (
    add_record,
    arguments,
    examples,
    figure,
    fit_rlm,
    fresh_rlm,
    machine,
    rank_scores,
    resume,
    saved,
)
from searchlab import load_space
from searchlab.rlm.pretrain import tokenizer_corpus
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import TrainConfig

TARGET = "lat_ms_hwnb_pixel3"


IDENT = ("seed", "breadth", "shots")


def pretrain_on(
    corpus: list[str],
    texts: dict[int, str],
    table: Any,
    rows: np.ndarray,
    val_rows: np.ndarray,
    devices: list[str],
    steps: int,
    seed: int,
    log: Callable[[str], None],
) -> Any:
    """A fresh model trained ``steps`` optimizer steps on (cell, device) latency rows."""
    rlm = fresh_rlm(corpus, seed, **SIZES)

    def rows_of(cells: np.ndarray, device: str) -> list:
        return examples([texts[r] for r in cells], [device], table.column(device)[cells])

    train = [ex for d in devices for ex in rows_of(rows, d)]
    val = [ex for d in devices[:4] for ex in rows_of(val_rows, d)]
    cfg = TrainConfig(epochs=1, min_steps=steps, patience=10**6, seed=seed)
    rlm.fit(train, val, cfg, log=log, extend_tokenizer=False)
    return rlm


def main() -> None:
    """Fine-tune what results/OUT.json lacks (unless --report), then print and draw it."""
    parser = arguments(__doc__, seeds=(0,), out="claim_breadth", epochs=40)
    parser.add_argument("--breadths", type=int, nargs="+", default=[1, 4, 23])
    parser.add_argument("--shots", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--pretrain-cells", type=int, default=600)
    parser.add_argument("--steps", type=int, default=1500, help="pretraining optimizer steps")
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if not args.report:
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Pretrain and fine-tune each (seed, breadth, shots) missing from results/OUT.json."""
    log = print if args.verbose else (lambda s: None)
    table = load_space("nb201").benchmark()
    sources = [c for c in table.columns if c.startswith("lat_ms_") and c != TARGET]
    if max(args.breadths) > len(sources):
        raise SystemExit(f"at most {len(sources)} pretraining devices, asked {args.breadths}")
    print(f"target {TARGET}; {len(sources)} candidate pretraining devices; {machine()}")
    same = {"target": TARGET, "pretrain_cells": args.pretrain_cells, "steps": args.steps,
            "test_cells": args.test, "epochs": args.epochs}  # fmt: skip
    records = resume(args.out, **same)
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        order = [sources[i] for i in rng.permutation(len(sources))]
        cells = rng.permutation(len(table))
        n_pre, n_shot = args.pretrain_cells, max(args.shots)
        pre, val = cells[:n_pre], cells[n_pre : n_pre + 50]  # validation: early stopping
        shot_pool = cells[n_pre + 50 : n_pre + 50 + n_shot]
        test = cells[n_pre + 50 + n_shot : n_pre + 50 + n_shot + args.test]
        used = np.concatenate([pre, val, shot_pool, test])
        cands = table.candidates(used)
        texts = dict(zip(used.tolist(), (c.text for c in cands)))
        corpus = tokenizer_corpus(seed=seed) + [texts[r] for r in pre]
        truth = table.column(TARGET)[test]
        test_texts = [texts[r] for r in test]
        for breadth in [*args.breadths, 0]:  # 0: random initialization
            done = {r["shots"] for r in records if r["seed"] == seed and r["breadth"] == breadth}
            if done >= set(args.shots):
                continue
            devices = order[:breadth]
            start = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / f"breadth{breadth}"
                if breadth:
                    pretrain_on(corpus, texts, table, pre, val, devices, args.steps, seed,
                                log).save(folder)  # fmt: skip
                pretrain_s = time.perf_counter() - start
                for shots in args.shots:
                    if shots in done:
                        continue
                    tick = time.perf_counter()
                    if breadth:
                        rlm = RegressionLanguageModel.load(folder, device="cpu")
                    else:
                        rlm = fresh_rlm(corpus, seed, **SIZES)
                    chosen = shot_pool[:shots]
                    fit_rlm(rlm, [texts[r] for r in chosen], [TARGET], table.column(TARGET)[chosen],
                            seed, args.epochs, scratch=not breadth)  # fmt: skip
                    pred = rlm.predict(test_texts, [TARGET], k=1, temperature=0.0).median()
                    rho = rank_scores(pred[:, 0], truth)["spearman"]
                    record = {"seed": seed, "breadth": breadth, "devices": devices,
                              "shots": shots, "spearman": rho, "pretrain_s": pretrain_s,
                              "tune_s": time.perf_counter() - tick}  # fmt: skip
                    records = add_record(args.out, record, IDENT, machine=machine(), **same)
                    print(f"seed {seed} breadth {breadth:2d} shots {shots:4d} rho {rho:.3f} "
                          f"({time.perf_counter() - tick:.0f}s; pretraining {pretrain_s:.0f}s)",
                          flush=True)  # fmt: skip


def report(out: str) -> None:
    """Print the table and draw results/OUT.png from results/OUT.json alone."""
    records = saved(out)["records"]
    breadths = sorted({r["breadth"] for r in records})  # 0 (random initialization) first
    shots = sorted({r["shots"] for r in records})
    seeds = sorted({r["seed"] for r in records})
    print(f"\n{TARGET}: mean Spearman over seeds {seeds}")
    print(f"{'':28}" + "".join(f"{s:>8}" for s in shots))
    for breadth in breadths:
        print(f"{label(breadth):28}" + "".join(f"{v:8.3f}" for v in curve(records, breadth, shots)))
    plot(records, out)


def curve(records: list[dict], breadth: int, shots: list[int]) -> list[float]:
    """Mean Spearman over seeds per shot count for one breadth."""
    return [float(np.mean([r["spearman"] for r in records
                           if r["breadth"] == breadth and r["shots"] == s]))
            for s in shots]  # fmt: skip


def label(breadth: int) -> str:
    """Legend text of a breadth."""
    return "random init" if breadth == 0 else f"pretrained on {breadth} device(s)"


def plot(records: list[dict], out: str) -> None:
    """Spearman against fine-tuning cells, one curve per pretraining breadth."""
    shots = sorted({r["shots"] for r in records})
    with figure(out, size=(5, 3.5)) as (ax,):
        for breadth in sorted({r["breadth"] for r in records}):
            ax.plot(shots, curve(records, breadth, shots), marker="o", label=label(breadth))
        ax.set_xscale("log", base=2)
        ax.set_xlabel(f"fine-tuning cells of {TARGET}")
        ax.set_ylabel("Spearman on test cells")
        ax.legend(fontsize=7)


if __name__ == "__main__":
    main()
