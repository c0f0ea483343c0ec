"""Checks of a stored campaign: keys match texts, nothing verified twice, rounds contiguous.

Example:
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.store.study import CampaignStore
    >>> from searchlab.store.checks import integrity
    >>> objs = Objectives.parse(["acc_cifar10_test"])
    >>> integrity(CampaignStore.open("sqlite:///:memory:", "ok", {}, objs))
    []
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from searchlab.core.candidate import text_key

if TYPE_CHECKING:
    from searchlab.store.study import CampaignStore


def integrity(store: CampaignStore) -> list[str]:
    """Problems found in the stored campaign (empty when sound)."""
    problems, seen = [], {}
    for t in store.trials():
        if text_key(t.text) != t.key:
            problems.append(f"trial {t.number}: key {t.key} does not match its text")
        if t.state == "COMPLETE":
            if t.key in seen:
                problems.append(f"trial {t.number}: {t.key} already verified in {seen[t.key]}")
            seen[t.key] = t.number
            if set(t.values) != set(store.objectives.names):
                problems.append(f"trial {t.number}: values {t.values} miss objectives")
            if t.source is None:
                problems.append(f"trial {t.number}: verified values without a source")
    indices = [r["index"] for r in store.rounds()]
    if indices != list(range(len(indices))):
        problems.append(f"round records are not contiguous: {indices}")
    return problems
