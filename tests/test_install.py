"""A non-editable install works: the wheel holds every package and data file searchlab needs.

The checkout is installed editable in the test environment, so this builds the wheel from a
copy of the sources, installs it into a fresh virtual environment (seeing the system's
site-packages for torch and friends, but not the checkout) and runs the command line there.
"""

import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "searchlab", "spaces", "conf")
# what a fresh clone would not hold: build outputs and caches of this checkout
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")


def _run(args, cwd, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel built from a clean copy of the sources, offline."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=JUNK)
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheels")
    rc, log = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, "."],
        cwd=src,
    )
    assert rc == 0, log
    (built,) = out.glob("searchlab-*.whl")
    return src, built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A fresh virtual environment with the wheel installed; returns its bin folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=False)
    bin_dir = env_dir / "bin"
    # pip and the dependencies come from this interpreter's site-packages (offline). Listed as
    # plain paths rather than through --system-site-packages, whose .pth files would install
    # the checkout's editable finder: it answers for any module the wheel lacks.
    rc, purelib = _run(
        [bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=env_dir,
    )
    assert rc == 0, purelib
    dirs = site.getsitepackages() + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])
    (Path(purelib.strip()) / "dependencies.pth").write_text("\n".join(dirs) + "\n")
    rc, log = _run(
        [bin_dir / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel[1]],
        cwd=env_dir,
    )
    assert rc == 0, log
    return bin_dir


def test_wheel_holds_every_package_and_data_file_and_nothing_else(wheel):
    src, built = wheel
    names = set(zipfile.ZipFile(built).namelist())
    tops = {n.split("/")[0] for n in names}
    assert tops == {"searchlab", "spaces", "searchlab-0.1.0.dist-info"}, sorted(tops)
    expected = set()
    # every source file lands where the installed package looks for it (conf/ as searchlab.conf)
    for prefix, folder in (
        ("searchlab", "searchlab"),
        ("spaces", "spaces"),
        ("searchlab/conf", "conf"),
    ):
        for path in (src / folder).rglob("*"):
            if path.is_file():
                expected.add(f"{prefix}/{path.relative_to(src / folder).as_posix()}")
    assert "searchlab/strategies/__init__.py" in expected
    assert "searchlab/checkpoints/default/model.safetensors" in expected
    assert sorted(expected - names) == []


def test_installed_wheel_is_what_runs(installed, tmp_path):
    code = (
        "import searchlab, searchlab.conf, searchlab.rlm, searchlab.strategies, "
        "searchlab.verifiers, spaces\n"
        "for m in (searchlab, searchlab.conf, searchlab.rlm, searchlab.strategies, "
        "searchlab.verifiers, spaces): print(m.__file__)"
    )
    rc, out = _run([installed / "python", "-c", code], cwd=tmp_path)
    assert rc == 0, out
    files = out.split()
    assert len(files) == 6, out
    for file in files:
        assert Path(file).is_relative_to(installed.parent), f"{file} is not the installed copy"
        assert not Path(file).is_relative_to(ROOT), f"{file} is the checkout's copy"


def test_installed_command_line_lists_spaces_and_runs_a_campaign(installed, tmp_path):
    rc, out = _run([installed / "searchlab", "spaces"], cwd=tmp_path)
    assert rc == 0, out
    assert "nb201  (spaces.nb201:Nb201Space)" in out and "fbnet  (spaces.fbnet:FbnetSpace)" in out
    assert "acc_cifar10_test" in out

    run_dir = tmp_path / "run"
    rc, out = _run(
        [
            installed / "searchlab",
            "run",
            "budget=10",
            "surrogate=none",
            "progress=false",
            "report=false",
            "rounds.batch=5",
            f"run_dir={run_dir}",
        ],
        cwd=tmp_path,
    )
    assert rc == 0, out
    assert "10 verified, 0 failed" in out, out
    assert f"results: {run_dir}" in out, out
    assert (run_dir / "summary.json").is_file()
