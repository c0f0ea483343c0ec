"""ONNX text or YAML text: which form of the same NB201 cell does the RLM rank better?

    python -m benchmarks.text_form [--cells 1000] [--seeds 0 1 2] [--epochs 30]
        [--forms onnx yaml] [--inits scratch checkpoint] [--threads 1] [--checkpoint default]
        [--out text_form] [--report]

The seed paper regresses a system from its YAML configuration; searchlab writes a network as
its ONNX graph. NB201 is both: a cell is six categorical choices (``nb201_yaml`` in
:mod:`benchmarks.config_search`) and a graph. Here each seed draws the same ``--cells``
labelled cells (cifar10 test accuracy, a column the bundled checkpoint never saw) outside the
checkpoint's held-out NB201 test cells, and the RLM learns them written either way:

- ``scratch``: a fresh network of the checkpoint's shape, its tokenizer learned from texts of
  that form (the named spaces' corpus plus the cells for ONNX; the cells for YAML);
- ``checkpoint``: the bundled checkpoint fine-tuned, its tokenizer extended by the texts.

Rules of ``searchlab fit`` (:func:`benchmarks.common.fit_rlm`) with a patience of 8 epochs:
20 % of the cells steer early stopping on validation tau; scratch at lr 1e-3 for at least
1,500 steps, fine-tuning at 5e-4.
Scored by Kendall tau of the point prediction on the checkpoint's 1,562 held-out test cells,
next to gradient-boosted trees on the same cells (their one-hot encoding, the peers' way).
It first prints each form's token counts under the checkpoint's tokenizer (a text longer than
the input would be cut off). Each fit is saved to results/{out}.json as it ends; a rerun
measures only what is missing. Every run ends by printing tau per method (per seed, mean and
sd, median seconds per fit) and drawing results/{out}.png (one dot per seed, and the mean)
from the results file alone; ``--report`` does only that.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from benchmarks import common
from benchmarks.baselines import fit_predict

COLUMN = "acc_cifar10_test"
FORMS = ("onnx", "yaml")
INITS = ("scratch", "checkpoint")


def yaml_texts(genotypes: list[tuple[str, ...]]) -> list[str]:
    """The canonical YAML text of each cell: one categorical parameter per edge."""
    config, names = common.nb201_yaml_space()
    return [config.candidate(dict(zip(names, g, strict=True))).text for g in genotypes]


def main() -> None:
    """Measure what results/{out}.json lacks (unless --report), then print and draw it."""
    parser = common.arguments(
        __doc__, seeds=(0, 1, 2), out="text_form", checkpoint=True, epochs=30, threads=1
    )
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--forms", nargs="+", default=list(FORMS), choices=FORMS)
    parser.add_argument("--inits", nargs="+", default=list(INITS), choices=INITS)
    args = parser.parse_args()
    if not args.report:
        torch.set_num_threads(args.threads)
        measure(args)
    report(args.out)


def measure(args: argparse.Namespace) -> None:
    """Fit and score every (seed, method) the results file lacks."""
    from searchlab import load_space
    from searchlab.rlm.pretrain import tokenizer_corpus
    from searchlab.rlm.regressor import RegressionLanguageModel

    held = common.held_out(args.checkpoint, [COLUMN])
    base, test = held.rlm, held.test
    space = load_space("nb201")
    table = space.benchmark()
    cands = common.candidates("nb201")
    genotypes = [table.genotype(r) for r in range(len(cands))]
    values = table.column(COLUMN)
    texts = {
        "onnx": lambda rows: [cands[r].text for r in rows],
        "yaml": lambda rows: yaml_texts([genotypes[r] for r in rows]),
    }
    print(f"checkpoint {held.ident}; {len(test)} test cells; {common.machine()}", flush=True)
    for form, render in texts.items():  # a text longer than the input would be cut off
        lengths = [len(base.text_tok.encode(t)) for t in render(test)]
        print(
            f"{form} text tokens (checkpoint tokenizer, test cells): min {min(lengths)}, "
            f"median {int(np.median(lengths))}, max {max(lengths)}; input holds "
            f"{base.net.cfg.max_input}",
            flush=True,
        )
    records = common.resume(args.out, checkpoint=held.ident)
    done = {(r["seed"], r["method"]) for r in records}
    methods = [f"{f}/{i}" for f in args.forms for i in args.inits] + ["gbdt"]
    for seed in args.seeds:
        cells = np.random.default_rng(seed).permutation(held.pool)[: args.cells]
        for method in methods:
            if (seed, method) in done:
                continue
            start = time.perf_counter()
            if method == "gbdt":
                test_genotypes = [genotypes[r] for r in test]
                train_genotypes = [genotypes[r] for r in cells]
                pred = fit_predict(
                    method, space, train_genotypes, values[cells], test_genotypes, seed
                )
            else:
                form, init = method.split("/")
                train = texts[form](cells)
                scratch = init == "scratch"
                if scratch:
                    # the tokenizer learns the form it will read: ONNX texts also get the
                    # named spaces' corpus (as pretraining did), YAML only its own cells
                    corpus = train + (tokenizer_corpus(seed=seed) if form == "onnx" else [])
                    rlm = common.fresh_rlm(corpus, seed, like=base)
                else:
                    rlm = RegressionLanguageModel.load(held.folder, device="cpu")
                # patience 8 and an extended tokenizer when fine-tuning: this table's rules
                common.fit_rlm(
                    rlm,
                    train,
                    [COLUMN],
                    values[cells],
                    seed,
                    args.epochs,
                    scratch=scratch,
                    patience=8,
                    extend_tokenizer=not scratch,
                )
                pred = rlm.predict_point(texts[form](test), [COLUMN])[:, 0]
            tau = common.rank_scores(pred, values[test])["kendall"]
            record = {
                "seed": seed,
                "method": method,
                "cells": args.cells,
                "epochs": args.epochs,
                "kendall": tau,
                "seconds": time.perf_counter() - start,
                "machine": common.machine(),
            }
            common.add_record(
                args.out, record, ("seed", "method"), checkpoint=held.ident, test_cells=len(test)
            )
            print(f"seed {seed} {method:17} tau {tau:.3f} ({record['seconds']:.0f} s)", flush=True)


def report(out: str) -> None:
    """Print tau per method and draw results/{out}.png from results/{out}.json alone."""
    saved = common.saved(out)
    records = saved["records"]
    methods = list(dict.fromkeys(r["method"] for r in records))
    print(f"\n{COLUMN}: Kendall tau on the held-out test cells")
    for method in methods:
        rows = sorted((r for r in records if r["method"] == method), key=lambda r: r["seed"])
        taus = [r["kendall"] for r in rows]
        print(
            f"{method:20} seeds {len(taus)}  tau {np.mean(taus):.3f} +- {np.std(taus):.3f}  "
            f"(per seed {' / '.join(f'{t:.3f}' for t in taus)}; "
            f"median {np.median([r['seconds'] for r in rows]):.0f} s per fit)"
        )
    cells = saved.get("test_cells")
    title = f"ONNX or YAML text: {COLUMN} on {cells} held-out cells, {saved.get('checkpoint')}"
    with common.figure(out, size=(5.5, 3.5), title=title) as (ax,):
        for x, method in enumerate(methods):
            taus = [r["kendall"] for r in records if r["method"] == method]
            ax.scatter([x] * len(taus), taus, s=14, alpha=0.6, color="tab:blue")
            ax.scatter([x], [np.mean(taus)], marker="_", s=400, color="black")
        ax.set_xticks(range(len(methods)), methods, rotation=20, fontsize=7)
        ax.set_ylabel("Kendall tau on held-out cells")
        ax.set_title("dots: seeds; bar: mean", fontsize=8)


if __name__ == "__main__":
    main()
