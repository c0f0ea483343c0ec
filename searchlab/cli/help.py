"""``searchlab COMMAND --help``: each command's settings and how to quote values.

Settings are hydra overrides (``key=value``), read by hydra's grammar after the shell has
removed its own quotes; the quoting rules below are the ones users trip over.

Example:
    >>> command_help("resume").splitlines()[0]
    'usage: searchlab resume RUN_DIR [budget=N] [max_minutes=M] [key=value ...]'
"""

from __future__ import annotations

QUOTING = """\
quoting (settings are hydra overrides, read after the shell removes its quotes):
  a list                  'objectives.names=[acc_cifar10_test,lat_ms_hwnb_pixel3]'
  a value with < > = or spaces is a string: quote it for hydra inside the shell's quotes
                          'objectives.constraints=["lat_ms_hwnb_pixel3<=5"]'
  several constraints     'objectives.constraints=["lat_ms_hwnb_pixel3<=5","acc_cifar10_test>=90"]'
  nothing                 objectives.reference=null
  a sweep (run -m)        comma-separated, no spaces: -m strategy=rea,nsga2 seed=0,1,2
"""

RUN = """\
usage: searchlab run [-m] [key=value ...]

Run one search campaign (conf/run.yaml); -m sweeps comma-separated values, one folder per
run plus summary.csv. Running the same command again resumes the campaign.

config groups (GROUP=OPTION picks a file of conf/GROUP/):
{groups}
settings (default):
  budget=100              verified candidates to reach (at least 1)
  seed=0                  seeds the strategy, the surrogate's samples and the acquisition
  max_minutes=null        stop after this many minutes (resume continues)
  run_dir=null            the run folder (default runs/NAME)
  storage=null            optuna storage URL (default sqlite in the run folder; a relative
                          sqlite:///FILE is stored resolved against this directory)
  name=...                the campaign's name (default SPACE-OBJECTIVES-STRATEGY-SURROGATE-seedN)
  rounds.pool=250         candidates the strategy proposes per round
  rounds.batch=10         candidates verified per round (at least 1)
  rounds.k=8              surrogate samples per candidate and objective (at least 1)
  rounds.initial=5        first verifications chosen without the surrogate
  rounds.finetune_every=20  fine-tune the surrogate after this many new verified values
  rounds.acquisition=null ei, ehvi, ... (default: ei for one objective, ehvi for several)
  objectives.names=[...]  objectives.constraints=[...]  objectives.reference={...}
  surrogate.device=auto   auto, cpu, cuda, cuda:N
  verifier.workers=0  verifier.time_limit=null  verifier.memory_limit_gb=null
  progress=true  report=true

{quoting}
examples:
  searchlab run strategy=nsga2 budget=150 seed=1
  searchlab run name=pixel3-5ms 'objectives.constraints=["lat_ms_hwnb_pixel3<=5"]'
  searchlab run -m strategy=rea,nsga2 seed=0,1,2
"""

RESUME = """\
usage: searchlab resume RUN_DIR [budget=N] [max_minutes=M] [key=value ...]

Continue the campaign of a run folder from its store (its config.yaml names the store).
Settings are checked before anything is written; the campaign's parts (space, objectives,
strategy, surrogate, verifier, rounds, seed) cannot change. A folder whose database is
missing or empty is refused: resume never starts a campaign anew.

{quoting}"""

FRONT = """\
usage: searchlab front RUN_DIR

Print the campaign's verified front and write front_verified.{csv,json} and
front_predicted.{csv,json} into the run folder. Never creates a database.
"""

WORKER = """\
usage: searchlab worker storage=URL campaign=NAME [budget=N] [index=I] [heartbeat=S] [grace=S]

Join a campaign stored in a shared database (PostgreSQL for many machines) as one more
worker; its parts come from the store. budget=N overrides the stored budget; a worker silent
for grace seconds (default 60) loses its claims to another. -m index=0,1,2,3 starts several.
"""

SAMPLE = """\
usage: searchlab sample [space=NAME] [n=5] [seed=0] [out=DIR] [space.args.KEY=VALUE]

Draw seeded candidates: key, params, flops, text size, genotype; out=DIR also writes each
candidate's KEY.onnx.txt and candidates.jsonl (DIR must be a folder, or not exist yet).
space=NAME is a registered space (searchlab spaces) or a dotted path (mypkg.spaces:MySpace).
"""

SPACES = """\
usage: searchlab spaces

List the registered search spaces: genotypes, distinct networks and benchmark metrics.
"""

FIT = """\
usage: searchlab fit data=PATH.csv targets=[COL,...] out=DIR [text_column=arch_str]
                     [space=nb201|null] [n_train=N] [seed=0] [init=default|scratch|PATH]
                     [val_fraction=0.2] [train.epochs=60] [device=auto]

Train or fine-tune an RLM on a CSV; space=null reads text_column as raw ONNX text.

{quoting}"""

EVALUATE = """\
usage: searchlab evaluate model=DIR data=PATH.csv targets=[COL,...] [text_column=arch_str]
                          [space=nb201|null] [k=8] [seed=0] [device=auto]

Score an RLM on the CSV rows it never trained on; the last line is one JSON object.

{quoting}"""

PRETRAIN = """\
usage: searchlab pretrain [out=DIR] [init=CHECKPOINT] [train.epochs=N] [device=auto]

Train the default RLM on the bundled benchmarks (conf/pretrain.yaml lists the tasks and the
columns held out). A killed run started again with the same command continues.
"""

HELP = {
    "run": RUN,
    "resume": RESUME,
    "front": FRONT,
    "worker": WORKER,
    "sample": SAMPLE,
    "spaces": SPACES,
    "fit": FIT,
    "evaluate": EVALUATE,
    "pretrain": PRETRAIN,
}


def _groups() -> str:
    """The run config groups and their options, read from the packaged conf folder."""
    from importlib.resources import files

    conf = files("searchlab.conf")
    lines = []
    for group in sorted(p.name for p in conf.iterdir() if p.is_dir() and p.name != "__pycache__"):
        names = sorted(p.name.removesuffix(".yaml") for p in (conf / group).iterdir()
                       if p.name.endswith(".yaml"))  # fmt: skip
        lines.append(f"  {group + '=':12}{', '.join(n for n in names if n != 'plugin')}")
    return "\n".join(lines)


def command_help(command: str, usage: str = "") -> str:
    """The help of ``command``; for one without its own text, its lines of ``usage``."""
    text = HELP.get(command)
    if text is None:  # a command added without its own help: its lines of the overview
        lines = usage.splitlines()
        first = [i for i, line in enumerate(lines) if line.split()[:1] == [command]]
        if not first:
            return f"usage: searchlab {command} [key=value ...]\n"
        what = lines[first[0]].split(None, 1)[-1].rstrip(":")
        after = lines[first[0] + 1 : first[0] + 2]  # its example, on the next line if any
        head = after[0].strip() if after and after[0].startswith("    ") else ""
        head = head if head.startswith("searchlab") else f"searchlab {command} [key=value ...]"
        return f"usage: {head}\n\n{what}\n"
    groups = _groups() if "{groups}" in text else ""
    return text.replace("{groups}", groups).replace("{quoting}", QUOTING)
