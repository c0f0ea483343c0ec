"""The README's `searchlab ...` shell examples, run as written (with a small budget).

Every example is either run (with the listed extra settings appended, which win over the
example's own) or skipped for a stated reason; a new example must be added to one of the two.
`runs/NAME` in the examples is a real, finished run folder in the working directory.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
SMALL = ["budget=5", "rounds.batch=5", "progress=false"]

#: example -> settings appended to keep it cheap
RUN: dict[str, list[str]] = {
    "searchlab spaces": [],
    "searchlab sample space=nb201 n=5 seed=0": [],
    "searchlab sample space=fbnet n=3 seed=1 out=texts": [],
    "searchlab sample space=nb201 space.args.num_classes=100": [],
    "searchlab run": SMALL,
    "searchlab run strategy=nsga2 budget=150 seed=1": SMALL,
    "searchlab run objectives=accuracy surrogate=none": SMALL,
    """searchlab run name=pixel3-5ms 'objectives.constraints=["lat_ms_hwnb_pixel3<=5"]'""": SMALL,
    # six runs: without the RLM, each loads in a second
    "searchlab run -m strategy=rea,nsga2 seed=0,1,2": [*SMALL, "surrogate=none"],
    "searchlab resume runs/NAME budget=200": ["budget=10", "progress=false"],
    "searchlab front runs/NAME": [],
    "searchlab export runs/NAME": [],
    "searchlab run verifier=tabular_latency objectives=local_latency budget=30": SMALL,
    # the workdir holds the README's conf/space/svm.yaml and mymodule.py, as a reader's would
    "searchlab run space=svm verifier=function verifier.target=mymodule:objective "
    "objectives=cv_accuracy budget=60": SMALL,
    "searchlab run space=svm_digits verifier=function "
    "verifier.target=searchlab.examples:svm_digits objectives=cv_accuracy budget=60": SMALL,
}

#: example -> why it is not run here
SKIP: dict[str, str] = {
    "searchlab sample space=mypkg.spaces:MySpace": "mypkg stands for the reader's own plugin",
    "searchlab run storage=$URL name=nas1 budget=500 verifier=train &": "needs a PostgreSQL "
    "server (tests/test_distributed.py runs workers against one)",
    "searchlab worker storage=$URL campaign=nas1": "needs a PostgreSQL server",
    "searchlab worker -m storage=$URL campaign=nas1 index=0,1,2,3 hydra/launcher=joblib": (
        "needs PostgreSQL and hydra-joblib-launcher"
    ),
    "searchlab worker -m storage=$URL campaign=nas1 index=0,1,2,3 "
    "hydra/launcher=submitit_slurm": "needs PostgreSQL and a SLURM cluster",
    "searchlab run verifier=train objectives=digits budget=6 rounds.batch=3 rounds.initial=3 "
    "rounds.pool=50 rounds.finetune_every=3 verifier.options.epochs=3 "
    "verifier.options.batch_size=32 verifier.options.limit=768": "trains networks: 170 s",
    "searchlab run verifier=train verifier.options.dataset=cifar10 verifier.options.root=~/data "
    "'objectives.names=[acc_cifar10_val]' verifier.workers=2 verifier.time_limit=1800": (
        "needs the CIFAR-10 batches under ~/data (never downloaded)"
    ),
    "searchlab fit data=spaces/data/nb201_acc_latency.csv.xz targets=[lat_ms_hwnb_pixel3] "
    "text_column=arch_str space=nb201 n_train=64 seed=0 init=default out=runs/pixel3": (
        "fine-tunes the RLM: about 100 s on 2 cores"
    ),
    "searchlab evaluate model=runs/pixel3 data=spaces/data/nb201_acc_latency.csv.xz "
    "targets=[lat_ms_hwnb_pixel3] text_column=arch_str space=nb201": (
        "needs the fit example's checkpoint and scores 15,000 rows"
    ),
}


def examples() -> list[str]:
    """The `searchlab` command lines of the README's bash blocks, continuations joined."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S):
        for line in re.sub(r"\\\n\s*", "", block).splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()  # a trailing comment
            if line.startswith("searchlab "):
                found.append(" ".join(line.split()))
    return found


def test_every_example_is_run_or_skipped_for_a_reason():
    found = examples()
    assert len(found) == len(set(found)), "an example appears twice"
    assert not set(RUN) & set(SKIP)
    assert set(found) == set(RUN) | set(SKIP), (
        f"new: {sorted(set(found) - set(RUN) - set(SKIP))}; "
        f"gone: {sorted(set(RUN) | set(SKIP) - set(found))}"
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A working directory with the finished run folder the examples call runs/NAME."""
    root = tmp_path_factory.mktemp("readme")
    (root / "spaces").symlink_to(README.parent / "spaces")  # the bundled data, by README path
    (root / "conf" / "space").mkdir(parents=True)
    (root / "conf" / "space" / "svm.yaml").write_text(readme_block("yaml", "# conf/space/svm.yaml"))
    (root / "mymodule.py").write_text(readme_block("python", "# mymodule.py"))
    _shell("searchlab run run_dir=runs/NAME surrogate=none report=false " + " ".join(SMALL), root)
    return root


def readme_block(language: str, first_line: str) -> str:
    """The README's ``language`` code block that starts with ``first_line``."""
    for block in re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S):
        if block.startswith(first_line):
            return block
    raise AssertionError(f"no {language} block starting {first_line!r} in the README")


def test_the_configuration_space_python_example_runs(workdir):
    """The README's Python example for configuration spaces, with fewer trials."""
    code = readme_block("python", "import optuna\nimport searchlab").replace(
        "n_trials=60", "n_trials=6"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "'kernel'" in proc.stdout and "acc_cv" in proc.stdout
    assert (workdir / "svm.db").is_file()


@pytest.mark.parametrize(
    ("first_line", "reader_name"),
    [
        (
            "from searchlab.testing import SpaceConformance",
            "from plugin_space import MlpSpace as MySpace",
        ),
        (
            "from searchlab.testing import StrategyConformance",
            "from searchlab.strategies import RegularizedEvolution as MyStrategy",
        ),
    ],
)
def test_the_plugin_author_examples_run(first_line, reader_name, tmp_path):
    """The conformance examples, with a real space or strategy standing for the reader's."""
    code = reader_name + "\n" + readme_block("python", first_line)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]


def _shell(example: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run an example through bash (its own quoting) with this interpreter's searchlab."""
    command = re.sub(r"^searchlab", f"{shlex.quote(sys.executable)} -m searchlab.cli", example)
    proc = subprocess.run(
        ["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"{example}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
    return proc


@pytest.mark.parametrize("example", list(RUN))
def test_readme_example_runs(example, workdir):
    if example not in examples():
        pytest.fail(f"no longer in the README: {example}")
    extra = " ".join(shlex.quote(a) for a in RUN[example])
    proc = _shell(f"{example} {extra}".strip(), workdir)
    assert "Traceback" not in proc.stderr
