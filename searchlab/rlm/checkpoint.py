"""Checkpoint folders: safetensors weights, JSON config, tokenizer, and a model card.

A folder holds ``model.safetensors`` (float32 weights), ``config.json`` (network,
number format, format version, tokenizer fingerprint), ``tokenizer.json`` and
``model_card.json`` (which rows, by candidate key, and which columns the weights were trained
on). Anything missing, corrupt, from another format version or not matching its fingerprint
raises :class:`CheckpointError` naming the file.

Example:
    >>> from searchlab.rlm.checkpoint import read_json, CheckpointError
    >>> try:
    ...     read_json("/nonexistent/config.json")
    ... except CheckpointError as e:
    ...     print(str(e).split(":")[0])
    checkpoint file /nonexistent/config.json is missing
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from searchlab.rlm.text import FILENAME as TOKENIZER_FILE

FORMAT = "searchlab-rlm"
VERSION = 1
#: the checkpoints shipped with the package, by folder name
BUNDLED = Path(__file__).resolve().parent.parent / "checkpoints"
FILES = ("config.json", "model.safetensors", "tokenizer.json", "model_card.json")


class CheckpointError(ValueError):
    """A checkpoint folder is missing, corrupt or incompatible."""


def checkpoint_id(folder: str | Path) -> str:
    """``name@sha256[:12]`` of a checkpoint's weights: which model made a number or table."""
    folder = Path(folder)
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()[:12]
    return f"{folder.name}@{digest}"


def fingerprint(directory: str | Path, numbers: Any) -> dict[str, str]:
    """SHA-256 digests of a checkpoint's text tokenizer file and number-tokenizer config."""
    # Both give the weights' token ids their meaning: another model's tokenizer of the same
    # size, or an edited number format, loads without complaint and predicts garbage.
    tokenizer = Path(directory) / TOKENIZER_FILE
    if not tokenizer.is_file():
        raise CheckpointError(f"checkpoint file {tokenizer} is missing")
    canonical = json.dumps(numbers, sort_keys=True, separators=(",", ":")).encode()
    return {
        TOKENIZER_FILE: "sha256:" + hashlib.sha256(tokenizer.read_bytes()).hexdigest(),
        "numbers": "sha256:" + hashlib.sha256(canonical).hexdigest(),
    }


def check_fingerprint(directory: str | Path, config: dict[str, Any]) -> None:
    """CheckpointError naming the file whose tokenizer no longer matches the fingerprint."""
    directory = Path(directory)
    expected = config.get("fingerprint")
    if expected is None:
        return  # written before fingerprints existed: loads as before, unchecked
    where = directory / "config.json"
    if not isinstance(expected, dict):
        raise CheckpointError(f"{where}: fingerprint {expected!r} is not a JSON object")
    actual = fingerprint(directory, config.get("numbers"))
    if expected.get(TOKENIZER_FILE) != actual[TOKENIZER_FILE]:
        raise CheckpointError(
            f"checkpoint file {directory / TOKENIZER_FILE} does not match the fingerprint in "
            f"{where}: it was changed, or copied from another model"
        )
    if expected.get("numbers") != actual["numbers"]:
        raise CheckpointError(
            f"{where}: the number format {config.get('numbers')} does not match the "
            "fingerprint: it was edited after the model was saved"
        )


def read_json(path: str | Path) -> dict[str, Any]:
    """A JSON object from a checkpoint file, or CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {path} is missing: not a searchlab checkpoint")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"checkpoint file {path} is corrupt: {exc}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"checkpoint file {path} does not hold a JSON object")
    return data


def write_folder(
    directory: str | Path,
    state: dict[str, torch.Tensor],
    config: dict[str, Any],
    card: dict[str, Any],
    save_tokenizer: Any,
) -> Path:
    """Write a checkpoint folder atomically enough: files first, config (the marker) last."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cpu = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in state.items()}
    save_file(cpu, str(directory / "model.safetensors"))
    save_tokenizer(directory)
    (directory / "model_card.json").write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")
    stamp = fingerprint(directory, config.get("numbers"))
    full = {"format": FORMAT, "version": VERSION, **config, "fingerprint": stamp}
    (directory / "config.json").write_text(json.dumps(full, indent=1, sort_keys=True) + "\n")
    return directory


def read_folder(
    directory: str | Path,
) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
    """(config, float32 state dict, model card) of a checkpoint folder, validated."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint {directory} is not a folder")
    config = read_json(directory / "config.json")
    if config.get("format") != FORMAT:
        raise CheckpointError(
            f"{directory / 'config.json'}: format {config.get('format')!r} is not {FORMAT!r}"
        )
    if config.get("version") != VERSION:
        raise CheckpointError(
            f"{directory / 'config.json'}: checkpoint version "
            f"{config.get('version')!r}, this searchlab reads version {VERSION}"
        )
    check_fingerprint(directory, config)
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise CheckpointError(f"checkpoint file {weights} is missing")
    try:
        state = {k: v.float() for k, v in load_file(str(weights)).items()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint file {weights} is corrupt: {exc}") from None
    card = read_json(directory / "model_card.json")
    return config, state, card


def check_state(
    state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], where: Path
) -> None:
    """Same tensor names and shapes as the network built from the config, or CheckpointError."""
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{where}: weights do not fit the config (missing {missing[:3]}, "
            f"unexpected {extra[:3]})"
        )
    for name, tensor in expected.items():
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{where}: weight {name!r} has shape {tuple(state[name].shape)}, "
                f"the config needs {tuple(tensor.shape)}"
            )


def checkpoint_path(name: str) -> Path:
    """A bundled checkpoint's folder by name (``default``), or the path as given."""
    bundled = BUNDLED / name
    if "/" not in name and bundled.is_dir():
        return bundled
    path = Path(name)
    if not path.exists():
        raise CheckpointError(
            f"checkpoint {name!r} not found (neither a folder nor one of the "
            f"bundled {sorted(p.name for p in BUNDLED.glob('*') if p.is_dir())})"
        )
    return path
