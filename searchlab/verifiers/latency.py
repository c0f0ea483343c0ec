"""Latency verifier: times each candidate's ONNX graph with onnxruntime on this machine.

The objective is a real hardware target named after the machine that measured it. The
default name, ``lat_ms_local_cpu``, stands for "the CPU this runs on"; set ``target=`` to
name yours, e.g. ``lat_ms_my_laptop``, so numbers from different machines never mix in one
store. Every evaluation carries the settings and a description of the CPU next to it.

A candidate's weight-free graph gets seeded random weights baked in as initializers (the
values do not change the work done), a fixed batch size, and one onnxruntime session with
a fixed thread count. After ``warmup`` untimed runs, ``runs`` runs are timed one by one;
the value is their median in milliseconds and ``extra`` adds the inter-quartile range.

Example:
    >>> from searchlab import load_space
    >>> from searchlab.verifiers.latency import LatencyVerifier
    >>> space = load_space("nb201")
    >>> cell = space.from_str("|none~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|")
    >>> verifier = LatencyVerifier(space, warmup=1, runs=3)
    >>> [e] = verifier.verify([cell], ["lat_ms_local_cpu"])
    >>> e.ok, e.values["lat_ms_local_cpu"] > 0, "iqr_ms" in e.extra
    (True, True, True)
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import os
import platform
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from searchlab.core.candidate import Candidate
from searchlab.core.evaluation import Evaluation
from searchlab.core.graph_cost import fixed_batch, random_weights, with_weights
from searchlab.core.space import Space
from searchlab.verifiers.base import Verifier, VerifierError

DEFAULT_TARGET = "lat_ms_local_cpu"


@functools.cache
def cpu_description() -> str:
    """The CPU model of this machine (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


def runnable_model(
    space: Space, candidate: Candidate, batch_size: int = 1, seed: int = 0
) -> onnx.ModelProto:
    """The candidate's graph with seeded random weights as initializers and a fixed batch."""
    model = space.to_onnx(candidate)
    return fixed_batch(with_weights(model, random_weights(model, seed)), batch_size)


def random_feeds(session: ort.InferenceSession, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded input values for every input of a session (its shapes must be fixed)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for arg in session.get_inputs():
        if not all(isinstance(d, int) and d > 0 for d in arg.shape):
            raise ValueError(f"input {arg.name!r} has no fixed shape: {arg.shape}")
        elem = onnx.helper.tensor_dtype_to_np_dtype(_elem_type(arg.type))
        if np.issubdtype(elem, np.floating):
            feeds[arg.name] = rng.standard_normal(arg.shape).astype(elem)
        else:
            feeds[arg.name] = np.zeros(arg.shape, dtype=elem)
    return feeds


def _elem_type(ort_type: str) -> int:
    # onnxruntime names input types "tensor(float)"; map back to the ONNX enum
    name = ort_type.removeprefix("tensor(").removesuffix(")")
    aliases = {"float": "FLOAT", "double": "DOUBLE", "float16": "FLOAT16"}
    key = aliases.get(name, name.upper())
    if key not in onnx.TensorProto.DataType.keys():
        raise ValueError(f"cannot feed an input of type {ort_type}")
    return onnx.TensorProto.DataType.Value(key)


class LatencyVerifier(Verifier):
    """Median onnxruntime latency (ms) of each candidate on this machine's CPU."""

    name = "latency"
    source = "measured"

    def __init__(
        self,
        space: Space,
        target: str | None = None,
        batch_size: int = 1,
        threads: int = 1,
        warmup: int = 5,
        runs: int = 30,
        seed: int = 0,
    ) -> None:
        super().__init__(space)
        self.target = target or DEFAULT_TARGET
        for what, value, least in [
            ("batch_size", batch_size, 1),
            ("threads", threads, 1),
            ("warmup", warmup, 0),
            ("runs", runs, 1),
        ]:
            if not isinstance(value, int) or value < least:
                raise VerifierError(f"latency verifier: {what} must be an int >= {least}")
        self.batch_size, self.threads = batch_size, threads
        self.warmup, self.runs, self.seed = warmup, runs, seed
        self._stats: dict[str, float] = {}

    def provides(self, objective: str) -> bool:
        """True only for the target this verifier measures."""
        return objective == self.target

    def session(self, candidate: Candidate) -> ort.InferenceSession:
        """A CPU session of the candidate with this verifier's batch and thread settings."""
        model = runnable_model(self.space, candidate, self.batch_size, self.seed)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused initializers are noise here
        return ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def time_ms(self, candidate: Candidate) -> np.ndarray:
        """Milliseconds of each timed run (after the warm-up runs)."""
        session = self.session(candidate)
        feeds = random_feeds(session, self.seed)
        for _ in range(self.warmup):
            session.run(None, feeds)
        times = np.empty(self.runs, dtype=np.int64)
        # a collection pause inside a timed run would be charged to the candidate
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for k in range(self.runs):
                start = time.perf_counter_ns()
                session.run(None, feeds)
                times[k] = time.perf_counter_ns() - start
        finally:
            if gc_was_enabled:
                gc.enable()
        return times / 1e6

    def _verify_one(self, candidate: Candidate, objectives: Sequence[str]) -> dict[str, float]:
        ms = self.time_ms(candidate)
        q1, median, q3 = np.percentile(ms, [25, 50, 75])
        self._stats = {"iqr_ms": float(q3 - q1), "min_ms": float(ms.min())}
        return {self.target: float(median)}

    def evaluate(self, candidate: Candidate, objectives: Sequence[str]) -> Evaluation:
        """As the base class, plus the spread of the timed runs in ``extra``."""
        self._stats = {}
        evaluation = super().evaluate(candidate, objectives)
        if not evaluation.ok:
            return evaluation
        return dataclasses.replace(evaluation, extra={**evaluation.extra, **self._stats})

    def settings(self) -> dict[str, Any]:
        """Target, run settings and the machine, so every number carries where it was made."""
        return {
            "verifier": self.name,
            "target": self.target,
            "batch_size": self.batch_size,
            "threads": self.threads,
            "warmup": self.warmup,
            "runs": self.runs,
            "seed": self.seed,
            "onnxruntime": ort.__version__,
            "cpu": cpu_description(),
            "cpu_count": os.cpu_count(),
            "machine": f"{platform.system()} {platform.machine()}",
        }

    def hint(self) -> str:
        """What to add to a refusal: how to get the objectives this verifier lacks."""
        return f" (it measures only {self.target!r}; pass target= to rename it)"
