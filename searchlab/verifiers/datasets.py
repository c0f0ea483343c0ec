"""Image classification data for the training verifier, shaped to a space's input.

``digits`` (scikit-learn's bundled 8x8 handwritten digits) works offline and is the default;
``cifar10``/``cifar100`` read the standard python-pickle batches from a local folder and never
download. Images are scaled to [0, 1], normalized with the training split's per-channel mean
and std, then fitted to the space's input shape: bilinear resize to HxW and grey repeated to C
channels, or, for a flat input (N,), flattened and zero-padded or cropped to N.

Example:
    >>> from searchlab.verifiers.datasets import load_dataset
    >>> s = load_dataset("digits", input_shape=(3, 16, 16))
    >>> tuple(s.train_x.shape[1:]), s.num_classes, len(s.train_x) + len(s.val_x) + len(s.test_x)
    ((3, 16, 16), 10, 1797)
    >>> load_dataset("digits", input_shape=(40,)).val_x.shape[1]
    40
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from searchlab.verifiers.base import VerifierError

#: folder and file names of the standard python-pickle releases
CIFAR_FILES = {
    "cifar10": (
        "cifar-10-batches-py",
        [f"data_batch_{i}" for i in range(1, 6)],
        ["test_batch"],
        b"labels",
        10,
    ),
    "cifar100": ("cifar-100-python", ["train"], ["test"], b"fine_labels", 100),
}
DATASETS = ("digits", *CIFAR_FILES)


class Splits(NamedTuple):
    """Train/validation/test tensors (float32 images, int64 labels) of one dataset."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    name: str


def load_dataset(
    name: str = "digits",
    root: str | Path | None = None,
    input_shape: tuple[int, ...] = (3, 32, 32),
    seed: int = 0,
    limit: int | None = None,
) -> Splits:
    """Load a dataset by name, split with ``seed``, fitted to ``input_shape`` (N, C, H, W)."""
    if name not in DATASETS:
        raise VerifierError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if len(input_shape) not in (1, 3) or min(input_shape) < 1:
        raise VerifierError(
            f"input shape {tuple(input_shape)} is neither (C, H, W) nor (N,): cannot fit images"
        )
    if limit is not None and limit < 1:
        raise VerifierError(f"limit must be a positive number of training images, got {limit}")
    rng = np.random.default_rng(seed)
    if name == "digits":
        x, y = _digits()
        order = rng.permutation(len(x))
        n_train, n_val = int(0.6 * len(x)), int(0.2 * len(x))
        parts = np.split(order, [n_train, n_train + n_val])
        (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = ((x[p], y[p]) for p in parts)
        classes = 10
    else:
        (tr_x, tr_y), (te_x, te_y), classes = _cifar(name, root)
        order = rng.permutation(len(tr_x))
        n_val = len(tr_x) // 10
        va_x, va_y = tr_x[order[:n_val]], tr_y[order[:n_val]]
        tr_x, tr_y = tr_x[order[n_val:]], tr_y[order[n_val:]]
    if limit is not None and limit < len(tr_x):
        keep = np.sort(rng.permutation(len(tr_x))[:limit])
        tr_x, tr_y = tr_x[keep], tr_y[keep]
    # statistics of the training images only, so validation and test stay unseen
    mean = tr_x.mean(axis=(0, 2, 3), keepdims=True)
    std = tr_x.std(axis=(0, 2, 3), keepdims=True) + 1e-6
    xs = [_fit((a - mean) / std, tuple(input_shape)) for a in (tr_x, va_x, te_x)]
    ys = [torch.as_tensor(b, dtype=torch.int64) for b in (tr_y, va_y, te_y)]
    return Splits(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2], classes, name)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 bundled 8x8 digits as (N, 1, 8, 8) floats in [0, 1] and labels."""
    from sklearn.datasets import load_digits  # optional dependency, needed for digits only

    data = load_digits()
    images = data.images.astype(np.float32)[:, None] / 16.0
    return images, data.target.astype(np.int64)


def _cifar(name: str, root: str | Path | None) -> tuple[tuple, tuple, int]:
    """(train, test) of a CIFAR pickle release under ``root`` as (N, 3, 32, 32) floats."""
    folder_name, train_files, test_files, label_key, classes = CIFAR_FILES[name]
    expected = ", ".join(train_files + test_files)
    if root is None:
        raise VerifierError(
            f"dataset {name!r} needs root=<folder holding {folder_name}/ with {expected}>; "
            "it is never downloaded"
        )
    root = Path(root)
    folder = root / folder_name if (root / folder_name).is_dir() else root
    missing = [f for f in train_files + test_files if not (folder / f).is_file()]
    if missing:
        raise VerifierError(
            f"dataset {name!r}: folder {str(folder)!r} lacks {missing}; expected {expected} "
            f"(the python-pickle release, in {root}/ or {root}/{folder_name}/); "
            "it is never downloaded"
        )

    def read(files: list[str]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for f in files:
            with open(folder / f, "rb") as fh:
                batch = pickle.load(fh, encoding="bytes")
            try:
                xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                ys.append(np.asarray(batch[label_key], dtype=np.int64))
            except (KeyError, ValueError) as exc:
                raise VerifierError(
                    f"dataset {name!r}: {folder / f} is not a CIFAR pickle batch "
                    f"(needs b'data' with 3072 bytes per image and {label_key!r}): {exc}"
                ) from None
        return np.concatenate(xs).astype(np.float32) / 255.0, np.concatenate(ys)

    return read(train_files), read(test_files), classes


def _fit(images: np.ndarray, shape: tuple[int, ...]) -> torch.Tensor:
    """Images (N, C, H, W) resized/channel-matched to ``shape`` or flattened to (N, n)."""
    x = torch.as_tensor(np.ascontiguousarray(images), dtype=torch.float32)
    if len(shape) == 1:
        flat = x.flatten(1)
        n = shape[0]
        return F.pad(flat, (0, n - flat.shape[1])) if n > flat.shape[1] else flat[:, :n].clone()
    channels, height, width = shape
    if x.shape[2:] != (height, width):
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
    if x.shape[1] != channels:
        # grey to colour by repetition; colour to another count through the grey mean
        grey = x if x.shape[1] == 1 else x.mean(dim=1, keepdim=True)
        x = grey.repeat(1, channels, 1, 1)
    return x.contiguous()
