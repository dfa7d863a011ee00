"""The one output rule: every command writes under out/ (or --out), only `report` writes reports/.

The README's example commands are parsed as written and their output root checked; the cheapest
one that trains runs for real with the scratch root redirected, and reports/ must not change.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from pathlib import Path

import pytest

from comparisons import cli, jobs
from comparisons.paths import REPORTS, ROOT, output_root, scratch_root
from comparisons.studies import models

README = ROOT / "README.md"


def _readme_commands() -> list[list[str]]:
    """argv of every ``python -m comparisons ...`` line of the README's code blocks (comments dropped)."""
    commands = []
    for block in re.findall(r"^```\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S):
        for line in block.splitlines():
            if line.startswith("python -m comparisons "):
                argv = shlex.split(line.split("#", 1)[0])[3:]
                if argv and argv[0] != "--help":
                    commands.append([a for a in argv if a not in ("[--full]", "[--kind", "optimizer]")])
    return commands


COMMANDS = _readme_commands()


def test_the_readme_lists_the_commands():
    assert {"parity", "mnist", "small-tasks", "naive-port", "numgrad-train", "report"} <= {c[0] for c in COMMANDS}


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_readme_commands_write_under_the_scratch_root(argv, monkeypatch, tmp_path):
    monkeypatch.setenv("DLPARITY_OUT", str(tmp_path))
    args = cli.build_parser().parse_args(argv)
    if argv[0] == "report":  # the report jobs, and only they, write the committed reports
        assert Path(args.out) == REPORTS
    elif hasattr(args, "out"):
        assert output_root(args) == tmp_path
        assert scratch_root() == tmp_path


def test_every_out_option_states_the_rule():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.choices and "parity" in a.choices)
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if "--out" in action.option_strings and name != "report":
                assert action.default is None and "out/" in action.help and "reports/" in action.help, name
    assert "only `report` writes reports/" in parser.epilog


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_commands_pass_the_scratch_root_to_their_writers(monkeypatch, tmp_path, capsys):
    from comparisons.studies.small_tasks import report

    seen = []

    def fake(out, **kw):
        seen.append(Path(out))
        return [], True

    monkeypatch.setenv("DLPARITY_OUT", str(tmp_path))
    monkeypatch.setattr(report, "write_report", fake)
    assert cli.main(["small-tasks", "--task", "xor", "-q"]) == 0
    assert cli.main(["small-tasks", "--task", "xor", "-q", "--out", str(tmp_path / "mine")]) == 0
    assert seen == [tmp_path / "small_tasks", tmp_path / "mine" / "small_tasks"]


@pytest.mark.slow
def test_a_filtered_small_tasks_run_leaves_reports_untouched(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DLPARITY_OUT", str(tmp_path))
    before = _snapshot(REPORTS / "small_tasks")
    assert cli.main(["small-tasks", "--task", "xor", "--dtype", "float64", "-q"]) == 0
    assert _snapshot(REPORTS / "small_tasks") == before
    assert "xor" in (tmp_path / "small_tasks" / "README.md").read_text()
    assert str(tmp_path / "small_tasks") in capsys.readouterr().out


def _fake_runs(root: Path, *, missing: tuple[str, str] | None = None) -> None:
    """Copies of the committed run.json files (all the job reads to decide) under ``root/mnist``."""
    for meta in REPORTS.glob("mnist/float*/*/run.json"):
        dtype, name = meta.parent.parent.name, meta.parent.name
        if (name, dtype) != missing:
            target = root / "mnist" / dtype / name
            target.mkdir(parents=True)
            target.joinpath("run.json").write_text(meta.read_text())


@pytest.mark.parametrize("missing", [None, ("twolayer", "float32")])
def test_plain_report_keeps_full_mnist_runs(monkeypatch, tmp_path, missing):
    from comparisons.studies.mnist import runner, sensitivity, summary

    trained = []

    class Record:
        stopped = ""

    def fake_train(name, *, dtype, out, progress, **kw):
        trained.append((name, dtype, Path(out), kw))
        return Record()

    _fake_runs(tmp_path, missing=missing)
    monkeypatch.setattr(runner, "train", fake_train)
    monkeypatch.setattr(sensitivity, "write", lambda out, progress: [out / "sensitivity.md"])
    monkeypatch.setattr(summary, "runs_on_disk", lambda out: ([], set()))
    monkeypatch.setattr(summary, "write", lambda found, out: [out / "README.md"])
    assert jobs.BY_NAME["mnist"].run(tmp_path, False, False)
    if missing is None:
        assert trained == []
    else:
        name, dtype = missing
        assert trained == [(name, dtype, tmp_path / "mnist" / "short" / dtype, runner.SHORT[name])]
    trained.clear()
    from comparisons.matrix import engine

    submitted = []

    def fake_matrix(cells, out, **kw):
        submitted.append((cells, Path(out)))
        return engine.Outcome()

    monkeypatch.setattr(engine, "run", fake_matrix)
    jobs.BY_NAME["mnist"].run(tmp_path, False, True)  # FULL=1: every recipe through the run matrix
    assert trained == [] and len(submitted) == 1
    cells, out = submitted[0]
    assert out == tmp_path / "mnist" and len(cells) == 2 * len(models.MODELS)
    assert {(c.model, c.dtype) for c in cells} == {(m, d) for m in models.MODELS for d in ("float64", "float32")}
    assert all(c.seed == 0 and c.train_limit is None for c in cells)  # the full recipes, into the full folders


def test_committed_mnist_runs_are_full_recipes():
    from comparisons.studies.mnist import summary

    runs = sorted(REPORTS.glob("mnist/float*/*/run.json"))
    assert len(runs) == 2 * len(models.MODELS) and all(summary.is_full_run(p.parent) for p in runs), [
        json.loads(p.read_text())["config"] for p in runs if not summary.is_full_run(p.parent)]
