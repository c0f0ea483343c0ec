"""Hydra configs of the searchlab command (installed as the package searchlab.conf)."""
