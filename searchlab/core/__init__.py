"""The core: candidates, the space contract and its two families (categorical networks,
configuration spaces), canonical ONNX text and graph costs, tabular benchmarks, the space
registry, objectives, verified values and Pareto tools. It imports nothing else of searchlab.
"""
