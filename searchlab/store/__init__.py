"""The campaign store: every candidate and value with its source, in optuna storage.

:mod:`~searchlab.store.study` (the store), :mod:`~searchlab.store.records` (a stored trial
read back), :mod:`~searchlab.store.claims` (atomic claims with heartbeats shared by workers)
and :mod:`~searchlab.store.checks` (integrity checks on open).
"""

from searchlab.store.study import CampaignStore, StoreError

__all__ = ["CampaignStore", "StoreError"]
