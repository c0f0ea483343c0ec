"""Why RLM training flushes subnormal floats: training speed with and without flushing.

    python -m benchmarks.subnormal_speed [--steps 600] [--seeds 0]

Trains the default-size network (vocabulary 4,096, batches of 32 random 100-token inputs
drawn from 300 token ids, so most embedding rows are rarely used) with AdamW and prints
examples/s every 100 steps, once with subnormals kept and once flushed to zero, per seed.
It prints only: no README table rests on it, so it keeps no results file and ``--out`` and
``--report`` have nothing to write or read.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from benchmarks import common
from searchlab.rlm.model import RlmConfig, RlmNetwork


def run(flush: bool, steps: int, seed: int = 0) -> list[float]:
    """Examples/s per block of 100 steps."""
    torch.set_flush_denormal(flush)
    torch.manual_seed(seed)
    net = RlmNetwork(RlmConfig(vocab_size=4096, num_vocab=33, max_input=512))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    rates, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        ids = torch.randint(5, 300, (32, 100))
        pad = torch.zeros(32, 100, dtype=torch.bool)
        targets = torch.randint(0, 33, (32, 6))
        logits = net(ids, pad, targets)
        loss = F.cross_entropy(logits.reshape(-1, 33), targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            rates.append(3200 / (time.perf_counter() - start))
            start = time.perf_counter()
    torch.set_flush_denormal(False)
    return rates


def main() -> None:
    """Time training with subnormals kept, then flushed, for each seed; print the rates."""
    parser = common.arguments(__doc__, out="subnormal_speed")
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args()
    if args.report:
        raise SystemExit("subnormal_speed keeps no results file: run it without --report")
    for seed in args.seeds:
        prefix = f"seed {seed}  " if len(args.seeds) > 1 else ""
        for flush in (False, True):
            rates = run(flush, args.steps, seed)
            print(
                f"{prefix}flush={flush!s:5}  examples/s per 100 steps: "
                + " ".join(f"{r:.0f}" for r in rates)
            )


if __name__ == "__main__":
    main()
