"""Both built-in spaces pass the plugin conformance suite."""

from searchlab.registry import load_space
from searchlab.testing import SpaceConformance


class TestNb201(SpaceConformance):
    def make_space(self):
        return load_space("nb201")


class TestNb201Cifar100(SpaceConformance):
    def make_space(self):
        return load_space("nb201", num_classes=100)
