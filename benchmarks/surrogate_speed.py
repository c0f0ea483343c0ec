"""RLM speed on 2 CPU cores: tokens per candidate, training examples/s, scoring candidates/s.

    python -m benchmarks.surrogate_speed [--checkpoint default] [--n 1024] [--k 8] [--batch 256]
    python -m benchmarks.surrogate_speed --decoder-only [--n 512]  # cached vs uncached decoder
    python -m benchmarks.surrogate_speed [--decoder-only] --report  # reprint, redraw

Scoring runs the same candidates with and without the decoder's KV cache (same seed) and
checks that both draw identical samples; then padded-token chunks against row-count batches,
and the decoder loop alone (encoder time subtracted), cached against uncached. Saves
results/OUT.{json,png} (OUT: ``--out``, default surrogate_speed); ``--decoder-only`` times
only the decoder loop and saves results/OUT_decoder.{json,png}.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from typing import Any

import numpy as np

from benchmarks import common

OBJECTIVES = ("acc_cifar10_test", "lat_ms_hwnb_eyeriss", "lat_ms_hwnb_fpga")


def decoder_speedup(
    rlm: Any, texts: list[str], k: int, batch: int, repeats: int = 3
) -> dict[int, tuple[float, float]]:
    """Seconds of the decoding loop alone (encoder time subtracted), per objective count.

    Cached and uncached runs alternate chunk by chunk after a warm-up; each figure is the
    median over ``repeats`` passes. Returns {n_objectives: (cached seconds, uncached seconds)}.
    """
    import torch

    from searchlab.rlm.decode import sample_tokens

    out = {}
    enc = rlm.batcher
    chunks = [texts[i : i + batch] for i in range(0, len(texts), batch)]
    for n_obj in (1, 3):
        objectives = OBJECTIVES[:n_obj]
        batches = [enc.batch([(t, objectives) for t in chunk]) for chunk in chunks]
        for cached in (True, False):  # warm-up: first-call allocations are not the decoder
            sample_tokens(rlm.net, *batches[0], rlm.num_tok, n_obj, k=k, use_cache=cached)
        passes: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(repeats):
            times = {True: 0.0, False: 0.0}
            for ids, pad in batches:
                with torch.no_grad():
                    start = time.perf_counter()
                    rlm.net.encode(ids, pad)
                    encode_s = time.perf_counter() - start
                for cached in (True, False):
                    start = time.perf_counter()
                    sample_tokens(rlm.net, ids, pad, rlm.num_tok, n_obj, k=k, use_cache=cached)
                    times[cached] += time.perf_counter() - start - encode_s
            for cached in (True, False):
                passes[cached].append(times[cached])
        out[n_obj] = (statistics.median(passes[True]), statistics.median(passes[False]))
    return out


def batching_speedup(
    rlm: Any, texts: list[str], k: int, batch: int, repeats: int = 3
) -> tuple[float, float]:
    """Scoring seconds with padded-token chunks (the default) and with row-count batches only
    (the former batching: a few long texts pad a whole batch), alternating, medians of
    ``repeats`` passes. Returns (chunked seconds, row-batched seconds)."""
    from searchlab.rlm import batching

    budget = batching.TOKENS_PER_ROW
    passes: dict[bool, list[float]] = {True: [], False: []}
    try:
        for _ in range(repeats):
            for chunked in (True, False):
                batching.TOKENS_PER_ROW = budget if chunked else 10**9
                start = time.perf_counter()
                rlm.predict(texts, ["acc_cifar10_test"], k=k, batch_size=batch)
                passes[chunked].append(time.perf_counter() - start)
    finally:
        batching.TOKENS_PER_ROW = budget
    return statistics.median(passes[True]), statistics.median(passes[False])


def _texts(n: int) -> tuple[list[str], np.ndarray]:
    """The first n NB201 rows of a permutation seeded 1, as texts, and their row numbers."""
    from searchlab import load_space

    # only these n texts: the whole table's (common.candidates) would raise the peak RSS
    table = load_space("nb201").benchmark()
    rows = np.random.default_rng(1).permutation(len(table))[:n]
    return [table.candidate(int(r)).text for r in rows], rows


def _decoder_fields(rlm: Any, args: argparse.Namespace, texts: list[str]) -> dict[str, Any]:
    """The decoder-alone timing as results fields: seconds and decoder steps per objective count."""
    decoder = decoder_speedup(rlm, texts, args.k, args.batch)
    return {
        "decoder_seconds": {str(n): v for n, v in decoder.items()},
        "decoder_steps": {str(n): n * rlm.num_tok.length for n in decoder},
    }


def measure(rlm: Any, ident: str, args: argparse.Namespace) -> dict[str, Any]:
    """Tokens per candidate, scoring with and without the cache and in both batchings, the
    decoder alone, one training epoch and the peak memory: the fields of results/OUT.json."""
    from searchlab import available_spaces, load_space
    from searchlab.rlm.train import Example, TrainConfig

    tokens = {}
    for name in sorted(available_spaces()):
        space = load_space(name)
        rng = np.random.default_rng(0)
        lengths = [len(rlm.text_tok.encode(space.sample(rng).text)) for _ in range(500)]
        tokens[name] = {"median": statistics.median(lengths), "max": max(lengths)}

    texts, rows = _texts(args.n)
    objectives = ["acc_cifar10_test"]
    rlm.predict(texts[:32], objectives, k=args.k)  # warm-up
    timing, samples = {}, {}
    for cached in (True, False):
        start = time.perf_counter()
        density = rlm.predict(texts, objectives, k=args.k, batch_size=args.batch, use_cache=cached)
        timing[cached] = time.perf_counter() - start
        samples[cached] = density.samples
    decoder = _decoder_fields(rlm, args, texts)
    chunked_s, rows_s = batching_speedup(rlm, texts, args.k, args.batch)

    col = load_space("nb201").benchmark().column("acc_cifar10_test")
    examples = [Example(t, tuple(objectives), (float(col[r]),)) for t, r in zip(texts, rows)]
    examples = examples[: args.train_examples]
    start = time.perf_counter()
    config = TrainConfig(epochs=1, warmup_steps=10)
    rlm.fit(examples, (), config, log=lambda s: None, extend_tokenizer=False)
    train_rate = len(examples) / (time.perf_counter() - start)
    return {
        "checkpoint": ident,
        "machine": common.machine(),
        "tokens": tokens,
        "score_per_s_cached": args.n / timing[True],
        "score_per_s_uncached": args.n / timing[False],
        "kv_speedup": timing[False] / timing[True],
        "identical_samples": bool(np.array_equal(samples[True], samples[False])),
        "train_examples": len(examples),
        "train_examples_per_s": train_rate,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n": args.n,
        "k": args.k,
        "batch": args.batch,
        **decoder,
        "score_per_s_row_batches": args.n / rows_s,
        "score_per_s_chunked_median": args.n / chunked_s,
    }


def _decoder_rows(r: dict[str, Any]) -> list[tuple[str, Any, float, float]]:
    """(objectives, decoder steps or '?', cached s, uncached s) per objective count."""
    steps = r.get("decoder_steps", {})  # recorded since the harness; '?' in older files
    return [(n, steps.get(n, "?"), c, u) for n, (c, u) in sorted(r["decoder_seconds"].items())]


def _decoder_panel(ax: Any, r: dict[str, Any]) -> None:
    """Cached against uncached decoder seconds, one pair of bars per objective count."""
    rows = _decoder_rows(r)
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [c for *_, c, _ in rows], 0.4, label="KV cache", color="tab:blue")
    ax.bar(x + 0.2, [u for *_, u in rows], 0.4, label="no cache", color="tab:gray")
    for i, (_, _, c, u) in enumerate(rows):
        ax.annotate(f"{u / c:.2f}x", (i + 0.2, u), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(
        x, [f"{n} objective(s)" + (f", {s} steps" if s != "?" else "") for n, s, *_ in rows]
    )
    ax.set_ylabel(f"decoder seconds, {r['n']} candidates, k={r['k']}")
    ax.legend(fontsize=8)


def report(name: str) -> None:
    """Print the speed table and draw its figure from results/NAME.json alone."""
    r = common.saved(name)
    print(f"checkpoint {r['checkpoint']}; {r['machine']}")
    spaces = sorted(r["tokens"], key=lambda s: (s != "nb201", s))  # the README's order
    tokens = " / ".join(f"{r['tokens'][s]['median']:.0f}, {r['tokens'][s]['max']}" for s in spaces)
    rows_x = r["score_per_s_chunked_median"] / r["score_per_s_row_batches"]
    table = [
        (f"input tokens per candidate, {' / '.join(spaces)} (median, max)", tokens),
        ("training examples/s (batch 32)", f"{r['train_examples_per_s']:.0f}"),
        (
            f"scoring, {r['n']:,} candidates, k={r['k']}, batch {r['batch']}, with KV cache",
            f"{r['score_per_s_cached']:.0f} candidates/s first pass, "
            f"{r['score_per_s_chunked_median']:.0f} as the median of 3",
        ),
        (
            "same without the cache; samples identical",
            f"{r['score_per_s_uncached']:.0f} candidates/s; "
            f"{'yes' if r['identical_samples'] else 'NO'}",
        ),
        (
            f"the same scoring with {r['batch']}-row batches only (the former batching)",
            f"{r['score_per_s_row_batches']:.0f} candidates/s (median of 3): padded-token "
            f"chunks are {rows_x:.2f}x faster",
        ),
        ("peak RSS", f"{r['peak_rss_mib'] / 1024:.2f} GiB"),
    ]
    print("| figure | measured |\n|---|---|")
    for label, value in table:
        print(f"| {label} | {value} |")
    print(f"end-to-end cache gain {r['kv_speedup']:.2f}x; decoder alone (medians of 3):")
    for n, steps, cached, plain in _decoder_rows(r):
        speedup = plain / cached
        print(
            f"  {n} objective(s), {steps} steps: {cached:.2f} s vs {plain:.2f} s = {speedup:.2f}x"
        )
    title = f"RLM speed ({r['checkpoint']}; {r['machine']})"
    with common.figure(name, panels=2, title=title) as (scoring, decoder):
        labels = ["KV cache\nfirst pass", "KV cache\nmedian of 3", "no cache", "row batches\nonly"]
        keys = ("cached", "chunked_median", "uncached", "row_batches")
        colors = ["tab:blue", "tab:blue", "tab:gray", "tab:orange"]
        scoring.bar(labels, [r[f"score_per_s_{key}"] for key in keys], color=colors)
        scoring.set_ylabel(f"candidates/s (k={r['k']}, batch {r['batch']})")
        scoring.tick_params(axis="x", labelsize=8)
        _decoder_panel(decoder, r)


def report_decoder(name: str) -> None:
    """Print the decoder-alone table and draw its figure from results/NAME.json alone."""
    r = common.saved(name)
    print(f"checkpoint {r['checkpoint']}; {r['machine']}; {r['n']} candidates x k={r['k']}")
    print("| objectives decoded | decoder steps | cached | uncached | speed-up |")
    print("|---|---|---|---|---|")
    for n, steps, cached, plain in _decoder_rows(r):
        print(f"| {n} | {steps} | {cached:.2f} s | {plain:.2f} s | {plain / cached:.2f}x |")
    title = f"RLM decoder alone ({r['checkpoint']}; {r['machine']})"
    with common.figure(name, title=title) as (ax,):
        _decoder_panel(ax, r)


def main() -> None:
    """Measure unless --report, then print the table and draw the figure from the results."""
    parser = common.arguments(__doc__, out="surrogate_speed", checkpoint=True)
    parser.add_argument("--n", type=int, default=1024, help="candidates scored")
    parser.add_argument("--k", type=int, default=8, help="samples per candidate")
    parser.add_argument("--batch", type=int, default=256, help="rows per scoring batch")
    parser.add_argument("--train-examples", type=int, default=1000)
    parser.add_argument("--decoder-only", action="store_true", help="time the decoder alone")
    args = parser.parse_args()
    name = f"{args.out}_decoder" if args.decoder_only else args.out
    if not args.report:
        from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
        from searchlab.rlm.regressor import RegressionLanguageModel

        folder = checkpoint_path(args.checkpoint)
        rlm = RegressionLanguageModel.load(folder, device="cpu")
        ident = checkpoint_id(folder)
        print(f"checkpoint {ident}, {rlm.net.num_parameters():,} parameters; {common.machine()}")
        if args.decoder_only:
            fields = _decoder_fields(rlm, args, _texts(args.n)[0])
            payload = {"checkpoint": ident, "machine": common.machine(), **fields}
            payload |= {"n": args.n, "k": args.k}
        else:
            payload = measure(rlm, ident, args)
        print(f"saved {common.save(name, payload)}")
    (report_decoder if args.decoder_only else report)(name)


if __name__ == "__main__":
    main()
