"""The search loop, its parts assembled and checked, and what steers it: acquisition, the
surrogate's trust from its measured health, screening, upkeep (fine-tuning cadence), resuming,
one record a round; and the two ways to run one from Python: ``searchlab.optimize`` and the RLM
inside an optuna study.
"""
