"""The core: candidates, the space contract and its two families (categorical networks,
configuration spaces), canonical ONNX text and graph costs, tabular benchmarks, the space
registry and the resolving of ``module:name`` targets, objectives, verified values and Pareto
tools. It imports nothing else of searchlab.
"""
