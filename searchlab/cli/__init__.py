"""The ``searchlab`` command: its entry point, help, hydra configs, and the bridge from a
run's config to a campaign (launch, run folder, export).
"""

from searchlab.cli.main import main

__all__ = ["main"]
