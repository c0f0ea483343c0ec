"""The FBNet space: conformance, benchmark round trip, arch-string errors, torch output shape."""

import lzma

import numpy as np
import pytest
import torch

from searchlab.core.registry import load_space
from searchlab.testing import SpaceConformance
from spaces.fbnet import DATA, LAYERS, FbnetSpace


class TestFbnet(SpaceConformance):
    def make_space(self):
        return load_space("fbnet")


def test_layer_plan_matches_hw_nas_bench_cifar():
    assert len(LAYERS) == 22
    assert [i for i, (_, _, s) in enumerate(LAYERS) if s == 2] == [5, 9, 17]
    assert LAYERS[0] == (16, 16, 1) and LAYERS[1] == (16, 24, 1) and LAYERS[-1] == (184, 352, 1)


def test_benchmark_rows_round_trip():
    space = FbnetSpace()
    bench = space.benchmark()
    assert len(bench) == 5000
    with lzma.open(DATA / "fbnet_latency.csv.xz", "rt", encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
        col = header.index("arch")
        archs = [line.rstrip("\n").split(",")[col] for line in fh]
    assert len(archs) == 5000
    for row, arch in enumerate(archs):
        genotype = space.genotype_from_str(arch)
        assert genotype == bench.genotype(row)
        assert space.genotype_to_str(genotype) == arch
    assert "lat_ms_pixel3" in bench.columns
    assert space.benchmark() is bench


@pytest.mark.parametrize(
    "arch, fragment",
    [
        (" ".join(["k3_e1"] * 21), "has 21 blocks, expected 22"),
        (" ".join(["k3_e1"] * 23), "has 23 blocks, expected 22"),
        (" ".join(["k3_e1"] * 7 + ["k7_e6"] + ["k3_e1"] * 14), "block 7 of"),
        ("", "has 0 blocks"),
    ],
)
def test_malformed_arch_string(arch, fragment):
    with pytest.raises(ValueError, match=fragment):
        FbnetSpace().genotype_from_str(arch)


def test_unknown_token_is_named():
    arch = " ".join(["skip"] * 21 + ["k3_e2"])
    with pytest.raises(ValueError, match="'k3_e2'"):
        FbnetSpace().genotype_from_str(arch)


def test_torch_output_shape_and_classes():
    space = FbnetSpace()
    c = space.sample(np.random.default_rng(0))
    with torch.no_grad():
        out = space.to_torch(c).eval()(torch.randn(4, 3, 32, 32))
    assert out.shape == (4, 100)
    assert FbnetSpace(10).to_torch(FbnetSpace(10).candidate(c.genotype))(
        torch.randn(2, 3, 32, 32)
    ).shape == (2, 10)
    with pytest.raises(ValueError):
        FbnetSpace(0)


def test_all_skip_and_grouped_extremes_match_onnx():
    """Edge genotypes: every layer a skip (strided/widening 1x1 convs), every layer grouped."""
    from searchlab.testing import check_onnx_matches_torch

    class Fixed(FbnetSpace):
        genotypes = [("skip",) * 22, ("k5_e1_g2",) * 22, ("k3_e1_g2",) * 11 + ("k5_e6",) * 11]

        def _sample(self, rng):
            return self.genotypes[int(rng.integers(len(self.genotypes)))]

    check_onnx_matches_torch(Fixed(), n=3)
