"""RLM speed on 2 CPU cores: tokens per candidate, training examples/s, scoring candidates/s.

    python benchmarks/surrogate_speed.py [--checkpoint default] [--n 1024] [--k 8] [--batch 256]
    python benchmarks/surrogate_speed.py --decoder-only   # just the cached vs uncached decoder

Scoring runs the same candidates with and without the decoder's KV cache (same seed) and
checks that both draw identical samples. Saves benchmarks/results/surrogate_speed.{json,png}.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from benchmarks.common import RESULTS, machine, peak_rss_mb, save
from searchlab import available_spaces, load_space
from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
from searchlab.rlm.regressor import RegressionLanguageModel
from searchlab.rlm.train import Example, TrainConfig


def decoder_speedup(rlm, texts, k, batch, repeats=3):  # noqa: ANN001, ANN201
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
        objectives = ("acc_cifar10_test", "lat_ms_hwnb_eyeriss", "lat_ms_hwnb_fpga")[:n_obj]
        batches = [enc.batch([(t, objectives) for t in chunk]) for chunk in chunks]
        for cached in (True, False):  # warm-up: first-call allocations are not the decoder
            sample_tokens(rlm.net, *batches[0], rlm.num_tok, n_obj, k=k, use_cache=cached)
        passes = {True: [], False: []}
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


def batching_speedup(rlm, texts, k, batch, repeats=3):  # noqa: ANN001, ANN201
    """Scoring seconds with padded-token chunks (the default) and with row-count batches only
    (the former batching: a few long texts pad a whole batch), alternating, medians of
    ``repeats`` passes. Returns (chunked seconds, row-batched seconds)."""
    from searchlab.rlm import batching

    budget = batching.TOKENS_PER_ROW
    passes = {True: [], False: []}
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
    table = load_space("nb201").benchmark()
    rows = np.random.default_rng(1).permutation(len(table))[:n]
    return [table.candidate(int(r)).text for r in rows], rows


def decoder_only(rlm, ident: str, args: argparse.Namespace) -> None:  # noqa: ANN001
    """Time the decoder loop alone, cached vs uncached, side by side; save the figures."""
    texts, _ = _texts(args.n)
    decoder = decoder_speedup(rlm, texts, args.k, args.batch)
    for n_obj, (cached_s, plain_s) in decoder.items():
        print(
            f"decoder alone, {n_obj} objective(s), {args.n} candidates x k={args.k}: cached "
            f"{cached_s:.2f}s, uncached {plain_s:.2f}s, speed-up {plain_s / cached_s:.2f}x"
        )
    payload = {"checkpoint": ident, "machine": machine(), "n": args.n, "k": args.k,
               "decoder_seconds": {str(k): v for k, v in decoder.items()}}  # fmt: skip
    print(f"saved {save('surrogate_speed_decoder', payload)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="default")
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--train-examples", type=int, default=1000)
    parser.add_argument("--decoder-only", action="store_true")
    args = parser.parse_args()
    folder = checkpoint_path(args.checkpoint)
    rlm = RegressionLanguageModel.load(folder, device="cpu")
    ident = checkpoint_id(folder)
    print(f"checkpoint {ident}, {rlm.net.num_parameters():,} parameters; {machine()}")
    if args.decoder_only:
        decoder_only(rlm, ident, args)
        return

    tokens = {}
    for name in sorted(available_spaces()):
        space = load_space(name)
        rng = np.random.default_rng(0)
        lengths = [len(rlm.text_tok.encode(space.sample(rng).text)) for _ in range(500)]
        tokens[name] = {"median": statistics.median(lengths), "max": max(lengths)}
        print(
            f"tokens per candidate, {name}: median {tokens[name]['median']:.0f}, "
            f"max {tokens[name]['max']}"
        )

    table = load_space("nb201").benchmark()
    texts, rows = _texts(args.n)
    objectives = ["acc_cifar10_test"]
    rlm.predict(texts[:32], objectives, k=args.k)  # warm-up
    timing = {}
    samples = {}
    for cached in (True, False):
        start = time.perf_counter()
        density = rlm.predict(texts, objectives, k=args.k, batch_size=args.batch, use_cache=cached)
        timing[cached] = time.perf_counter() - start
        samples[cached] = density.samples
    identical = bool(np.array_equal(samples[True], samples[False]))
    decoder = decoder_speedup(rlm, texts, args.k, args.batch)
    for n_obj, (cached_s, plain_s) in decoder.items():
        print(
            f"decoder alone, {n_obj} objective(s): cached {cached_s:.2f}s, uncached "
            f"{plain_s:.2f}s, speed-up {plain_s / cached_s:.2f}x"
        )
    score_cached = args.n / timing[True]
    score_plain = args.n / timing[False]
    print(
        f"scoring {args.n} candidates, k={args.k}, batch {args.batch}: cached "
        f"{score_cached:.0f}/s, uncached {score_plain:.0f}/s, speed-up "
        f"{timing[False] / timing[True]:.2f}x, identical samples: {identical}"
    )

    chunked_s, rows_s = batching_speedup(rlm, texts, args.k, args.batch)
    print(
        f"scoring with padded-token chunks {args.n / chunked_s:.0f}/s, with {args.batch}-row "
        f"batches only {args.n / rows_s:.0f}/s: {rows_s / chunked_s:.2f}x (medians of 3)"
    )

    col = table.column("acc_cifar10_test")
    examples = [Example(t, tuple(objectives), (float(col[r]),)) for t, r in zip(texts, rows)][
        : args.train_examples
    ]
    start = time.perf_counter()
    rlm.fit(
        examples,
        (),
        TrainConfig(epochs=1, warmup_steps=10),
        log=lambda s: None,
        extend_tokenizer=False,
    )
    train_rate = len(examples) / (time.perf_counter() - start)
    print(f"training: {train_rate:.0f} examples/s (batch 32, one epoch of {len(examples)})")
    rss = peak_rss_mb()
    print(f"peak RSS {rss:.0f} MiB")
    payload = {
        "checkpoint": ident,
        "machine": machine(),
        "tokens": tokens,
        "score_per_s_cached": score_cached,
        "score_per_s_uncached": score_plain,
        "kv_speedup": timing[False] / timing[True],
        "identical_samples": identical,
        "train_examples_per_s": train_rate,
        "peak_rss_mib": rss,
        "n": args.n,
        "k": args.k,
        "batch": args.batch,
        "decoder_seconds": {str(k): v for k, v in decoder.items()},
        "score_per_s_row_batches": args.n / rows_s,
        "score_per_s_chunked_median": args.n / chunked_s,
    }
    print(f"saved {save('surrogate_speed', payload)}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3))
        ax.bar(
            ["KV cache", "no cache"], [score_cached, score_plain], color=["tab:blue", "tab:gray"]
        )
        ax.set_ylabel(f"candidates/s (k={args.k})")
        ax.set_title(f"RLM scoring on 2 CPU cores ({ident})", fontsize=8)
        fig.tight_layout()
        fig.savefig(RESULTS / "surrogate_speed.png", dpi=120)
    except ImportError:
        print("matplotlib not installed: no plot")


if __name__ == "__main__":
    main()
