"""Shared fixtures: a PostgreSQL server for the distributed tests (started once per run)."""

from __future__ import annotations

import os

import pytest
from postgres_server import ENV, PostgresServer, PostgresUnavailable, wait_ready


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a live PostgreSQL database; the test fails (never skips) when there is none."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("the psycopg driver is missing: pip install -e '.[test]'")
    if os.environ.get(ENV):
        try:
            wait_ready(os.environ[ENV])
        except PostgresUnavailable as exc:
            pytest.fail(str(exc))
        yield os.environ[ENV]
        return
    try:
        server = PostgresServer().start()
        wait_ready(server.url)
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield server.url
    finally:
        server.stop()
