"""Classical surrogate predictors for NAS benchmarks: GBDT, random forest, MLP and a GCN.

Each baseline fits (genotype, target) pairs of a searchlab space and predicts held-out
genotypes; targets are standardized on the training set and predictions mapped back.
gbdt/rf/mlp read the space's one-hot encoding (``space.one_hot``, the vector ``encode``
returns); the gcn reads the NAS-Bench-201 cell graph in op-on-node form (Wen et al. 2020,
BRP-NAS): input node, one node per edge operation, output node.

Example:
    >>> import numpy as np
    >>> from searchlab import load_space
    >>> from benchmarks.baselines import fit_predict
    >>> space = load_space("nb201")
    >>> rng = np.random.default_rng(0)
    >>> cells = [space.sample(rng).genotype for _ in range(40)]
    >>> y = np.array([c.count("nor_conv_3x3") for c in cells], dtype=float)
    >>> fit_predict("rf", space, cells[:30], y[:30], cells[30:]).shape
    (10,)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits
from torch import nn

from spaces.nb201 import EDGES, OPS

BASELINES: tuple[str, ...] = ("gbdt", "rf", "mlp", "gcn")

# ----- GCN graph ----------------------------------------------------------------------------
#: node 0 = input, nodes 1..6 = the six edge ops (in EDGES order), node 7 = output
N_NODES = len(EDGES) + 2
#: node features: one-hot of (input, output, *OPS)
N_FEATURES = 2 + len(OPS)


def _cell_adjacency() -> np.ndarray:
    """Directed adjacency ``a[dst, src]`` of the op-on-node NB201 cell graph."""
    a = np.zeros((N_NODES, N_NODES), dtype=np.float32)
    out = N_NODES - 1
    for e, (_, src) in enumerate(EDGES):
        if src == 0:
            a[1 + e, 0] = 1.0  # the input feeds the ops leaving node 0
        for f, (to, _) in enumerate(EDGES):
            if to == src:
                a[1 + e, 1 + f] = 1.0  # an op leaving node i reads every op entering node i
    for f, (to, _) in enumerate(EDGES):
        if to == 3:
            a[out, 1 + f] = 1.0  # the output reads the ops entering node 3
    return a


def _normalized(a: np.ndarray) -> np.ndarray:
    """Symmetric-normalized adjacency D^-1/2 (A + A^T + I) D^-1/2 (messages both ways)."""
    s = np.minimum(a + a.T, 1.0) + np.eye(len(a), dtype=np.float32)
    d = 1.0 / np.sqrt(s.sum(axis=1))
    return (s * d[:, None] * d[None, :]).astype(np.float32)


A_HAT = _normalized(_cell_adjacency())


def _node_features(genotypes: Sequence[Any]) -> np.ndarray:
    """Node features (n, N_NODES, N_FEATURES) of NB201 cells."""
    x = np.zeros((len(genotypes), N_NODES, N_FEATURES), dtype=np.float32)
    x[:, 0, 0] = 1.0
    x[:, N_NODES - 1, 1] = 1.0
    for i, genotype in enumerate(genotypes):
        for e, op in enumerate(genotype):
            x[i, 1 + e, 2 + OPS.index(op)] = 1.0
    return x


class GCN(nn.Module):
    """Graph convolutions over a fixed normalized adjacency, mean-pool readout, MLP head."""

    def __init__(self, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        dims = [N_FEATURES] + [hidden] * layers
        self.convs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.register_buffer("a_hat", torch.from_numpy(A_HAT))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted standardized target for a batch (B, nodes, features) of cells."""
        h = x
        for conv in self.convs:
            h = torch.relu(self.a_hat @ conv(h))
        return self.head(h.mean(dim=1)).squeeze(-1)


def _gcn_epochs(n: int) -> int:
    """Epochs for n training rows: about 6,000 optimizer steps, within 100 to 2,000 epochs."""
    steps_per_epoch = -(-n // 64)
    return int(np.clip(6000 // steps_per_epoch, 100, 2000))


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, restoring the caller's setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: threads only add sync cost (and busy cores stall)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _fit_predict_gcn(
    train: Sequence[Any], y: np.ndarray, test: Sequence[Any], seed: int
) -> np.ndarray:
    """Train the GCN on standardized targets with Adam + MSE and predict the test cells."""
    x_train = torch.from_numpy(_node_features(train))
    x_test = torch.from_numpy(_node_features(test))
    y_train = torch.from_numpy(y.astype(np.float32))
    n = len(train)
    # fork_rng leaves the caller's torch RNG untouched
    with _one_thread(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GCN()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        epochs = _gcn_epochs(n)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
        model.train()
        for _ in range(epochs):
            for idx in torch.randperm(n).split(64):
                opt.zero_grad()
                loss = nn.functional.mse_loss(model(x_train[idx]), y_train[idx])
                loss.backward()
                opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            return model(x_test).numpy().astype(np.float64)


# ----- sklearn baselines -----------------------------------------------------------------
def _sklearn_model(name: str, n: int, seed: int) -> Any:
    """The configured scikit-learn regressor for baseline ``name`` and n training rows."""
    if name == "gbdt":
        return GradientBoostingRegressor(
            n_estimators=500, max_depth=4, learning_rate=0.05, random_state=seed
        )
    if name == "rf":
        return RandomForestRegressor(n_estimators=300, random_state=seed, n_jobs=2)
    early = n >= 50
    return MLPRegressor(
        hidden_layer_sizes=(128, 128),
        random_state=seed,
        batch_size=min(64, n),
        max_iter=300,
        early_stopping=early,
        validation_fraction=0.1,
        n_iter_no_change=10,
    )


def is_nb201_cell_space(space: Any) -> bool:
    """Whether the space's genotype is an NB201 cell (six positions, each one of OPS)."""
    return tuple(getattr(space, "choices", ())) == (tuple(OPS),) * len(EDGES)


def fit_predict(
    name: str,
    space: Any,
    train_genotypes: list,
    y_train: np.ndarray,
    test_genotypes: list,
    seed: int = 0,
) -> np.ndarray:
    """Fit baseline `name` on (genotype, target) pairs and predict the test genotypes."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; expected one of {list(BASELINES)}")
    y = np.asarray(y_train, dtype=np.float64).ravel()
    if len(y) != len(train_genotypes) or len(y) < 2:
        raise ValueError("need at least 2 training genotypes, one target each")
    if len(test_genotypes) == 0:
        return np.zeros(0)
    mean, std = float(y.mean()), float(y.std())
    std = std if std > 0 else 1.0
    z = (y - mean) / std
    if name == "gcn":
        if not is_nb201_cell_space(space):
            raise ValueError("gcn baseline supports nb201 cells only")
        pred = _fit_predict_gcn(train_genotypes, z, test_genotypes, seed)
    else:
        x_train = np.stack([space.one_hot(g) for g in train_genotypes])
        x_test = np.stack([space.one_hot(g) for g in test_genotypes])
        model = _sklearn_model(name, len(y), seed)
        # one BLAS/OpenMP thread: small matrices, and oversubscribed cores stall threaded BLAS
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x_train, z)
            if name == "rf":  # threaded predict sums trees in a racy order: last-bit noise
                model.set_params(n_jobs=1)
            pred = model.predict(x_test)
    return np.asarray(pred, dtype=np.float64) * std + mean
