"""Why RLM training flushes subnormal floats: training speed with and without flushing.

    python -m benchmarks.subnormal_speed [--steps 600]

Trains the default-size network (vocabulary 4,096, batches of 32 random 100-token inputs
drawn from 300 token ids, so most embedding rows are rarely used) with AdamW and prints
examples/s every 100 steps, once with subnormals kept and once flushed to zero.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from searchlab.rlm.model import RlmConfig, RlmNetwork


def run(flush: bool, steps: int) -> list[float]:
    """Examples/s per block of 100 steps."""
    torch.set_flush_denormal(flush)
    torch.manual_seed(0)
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args()
    for flush in (False, True):
        rates = run(flush, args.steps)
        print(
            f"flush={flush!s:5}  examples/s per 100 steps: " + " ".join(f"{r:.0f}" for r in rates)
        )


if __name__ == "__main__":
    main()
