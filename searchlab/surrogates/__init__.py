"""Surrogates: what predicts a candidate's objectives before it is verified.

The contract (:class:`searchlab.surrogates.base.Surrogate`), the RLM behind it
(:mod:`searchlab.surrogates.rlm`), gradient-boosted trees (:mod:`searchlab.surrogates.gbdt`)
and params / FLOPs read off the graph as rankers (:mod:`searchlab.surrogates.cheap`).
"""
