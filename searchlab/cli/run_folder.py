"""The run folder and its store, checked before a command writes anything.

``searchlab run`` stores its storage URL absolute (a relative SQLite path is resolved
against the directory the run was started from), so ``resume`` works from anywhere.
``resume`` and ``front`` read the folder's ``config.yaml``, check the overrides given, and
refuse a campaign whose database is missing or empty: they never create a store.

Example:
    >>> absolute_storage("postgresql+psycopg://db.example/nas")
    'postgresql+psycopg://db.example/nas'
    >>> absolute_storage("sqlite:////data/campaign.db")
    'sqlite:////data/campaign.db'
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from searchlab.cli.config import ConfigError, RunConfig


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001  (a malformed URL: opening the store reports it)
        return None
    db = parsed.database
    if not parsed.drivername.startswith("sqlite") or not db or db == ":memory:":
        return None
    return None if db.startswith("file:") else Path(db)


def absolute_storage(url: str | None) -> str | None:
    """``url`` with a relative SQLite path made absolute against the current directory."""
    path = sqlite_path(url) if url else None
    if path is None or path.is_absolute():
        return url
    from sqlalchemy.engine import make_url

    absolute = make_url(url).set(database=os.path.abspath(path))
    return absolute.render_as_string(hide_password=False)


def storage_url(cfg: Mapping[str, Any], run_dir: str | Path) -> str:
    """Where a run's campaign is stored: ``storage``, else ``campaign.db`` in the run folder."""
    return str(cfg.get("storage") or f"sqlite:///{Path(run_dir).resolve() / 'campaign.db'}")


def require_campaign(url: str, name: str) -> None:
    """Refuse, creating nothing, when the store at ``url`` holds no campaign ``name``."""
    path = sqlite_path(url)
    if path is None:  # a server database: asking it creates no campaign
        from searchlab.store.study import CampaignStore

        CampaignStore.stored_config(url, name)
        return
    if not path.is_file():
        raise ConfigError(f"no database {path}: campaign {name!r} is not there (searchlab run "
                          "starts a campaign)")  # fmt: skip
    if path.stat().st_size == 0:
        raise ConfigError(f"database {path} is empty (0 bytes): campaign {name!r} is not there")
    try:  # read-only: opening it through optuna would add its tables to any SQLite file
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=30) as conn:
            names = [row[0] for row in conn.execute("select study_name from studies")]
    except sqlite3.Error as exc:
        raise ConfigError(f"database {path} is not a searchlab campaign store ({exc})") from None
    if name not in names:
        raise ConfigError(f"database {path} holds no campaign {name!r} (it holds {sorted(names)})")


def check_run_dir(run_dir: Path, key: str = "run_dir") -> None:
    """Refuse a run folder that is a file."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"{key}={run_dir} is not a folder (a file is there); name a folder")


def check_new_run(run_dir: Path, name: str) -> None:
    """Refuse a ``run`` into a file, a folder of another campaign or with a broken config."""
    check_run_dir(run_dir)
    if (run_dir / "config.yaml").exists():
        held = load_config(run_dir).get("name")
        if held != name:
            raise ConfigError(
                f"run folder {run_dir} holds campaign {held!r}, not {name!r}: use another run_dir"
            )


def check_same_campaign(cfg: Mapping[str, Any], run_dir: Path, keys: Sequence[str]) -> None:
    """Refuse a run whose campaign is stored with other ``keys`` before hydra writes its folder."""
    url, name = storage_url(cfg, run_dir), str(cfg["name"])
    path = sqlite_path(url)
    if path is not None and not (path.is_file() and path.stat().st_size > 0):
        return  # a new campaign
    from searchlab.store.study import CampaignStore, StoreError

    try:
        stored = CampaignStore.stored_config(url, name)
    except StoreError:
        return  # not stored yet, or unreachable: opening the store says which
    diff = "; ".join(
        f"{k}: stored {stored.get(k)!r}, given {cfg.get(k)!r}"
        for k in keys
        if stored.get(k) != cfg.get(k)
    )
    if diff:
        raise ConfigError(
            f"campaign {name!r} in {url} was started with another config ({diff}); "
            "use another run folder or campaign name"
        )


def load_config(run_dir: Path) -> dict[str, Any]:
    """A run folder's ``config.yaml``, or one line saying why it cannot be read."""
    from omegaconf import OmegaConf

    check_run_dir(run_dir, "RUN_DIR")
    path = run_dir / "config.yaml"
    if not path.is_file():
        raise ConfigError(f"{run_dir}: no config.yaml; is it a folder written by searchlab run?")
    try:
        cfg = OmegaConf.to_container(OmegaConf.load(path))
    except Exception as exc:  # noqa: BLE001  (YAML syntax or interpolation: name the file)
        raise ConfigError(f"{path}: not a readable config ({_yaml_problem(exc)})") from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path}: not a mapping of settings")
    return cfg


def _yaml_problem(exc: Exception) -> str:
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(exc).split()) or type(exc).__name__


def checked_run_config(
    saved: Mapping[str, Any], overrides: Sequence[str], where: str
) -> dict[str, Any]:
    """A stored run config with ``key=value`` overrides, checked against the run schema.

    ``where`` names the config's file in messages; each override is checked on its own so
    the message names the one that is wrong. Nothing is written.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        cfg = OmegaConf.merge(OmegaConf.structured(RunConfig), dict(saved))
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{where}: {_config_problem(exc)}") from None
    for item in overrides:
        key, sep, _ = item.partition("=")
        if not sep or not key or key[0] in "+~":
            raise ConfigError(f"{item!r}: not a key=value setting (e.g. budget=200)")
        try:
            cfg.merge_with_dotlist([item])
        except OmegaConfBaseException as exc:
            raise ConfigError(f"{item}: {_config_problem(exc, keyed=False)}") from None
    try:
        plain = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{where}: {_config_problem(exc)}") from None
    return dict(plain)  # type: ignore[arg-type]


def _config_problem(exc: Exception, keyed: bool = True) -> str:
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    key = getattr(exc, "full_key", None)
    if isinstance(exc, (ConfigAttributeError, ConfigKeyError)) and key:
        return f"no setting {key!r} (searchlab run --help lists them)"
    message = str(getattr(exc, "msg", None) or exc).strip().splitlines()[0]
    return f"{key}: {message}" if keyed and key and key not in message else message


def interrupted_message(cfg: Mapping[str, Any], run_dir: Path, command: str) -> str:
    """What an interrupted campaign keeps and how to go on, in one line."""
    if not (run_dir / "config.yaml").is_file():
        return f"searchlab {command}: interrupted before the campaign started; nothing was kept"
    url = cfg.get("storage")
    where = f"{run_dir / 'campaign.db'}" if not url else _hide_password(str(url))
    return (
        f"searchlab {command}: interrupted; every result verified so far is kept in {where}; "
        f"continue with: searchlab resume {run_dir}"
    )


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return url
