"""The run matrix on a real Dask cluster: a tiny matrix (twolayer, scratch, a few steps on a subset of
MNIST) runs, is skipped when finished, survives a worker that dies (its cell failed with the reason,
the other finished, the failed one rerun next time); bad input is refused before any work."""

from __future__ import annotations

import json
import os
import sys

import pytest

pytest.importorskip("distributed")

import cloudpickle  # noqa: E402  (installed with distributed)

from comparisons import cli  # noqa: E402
from comparisons.matrix import disk, engine, spec  # noqa: E402
from comparisons.matrix.cell import run_cell  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the test tasks below travel by value

TINY = {"impls": ("scratch",), "epochs": 0.02, "train_limit": 1000, "test_limit": 100}  # 1 step of 100 images


def tiny(seeds):
    return spec.cells(["twolayer"], ["float32"], seeds, **TINY)


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes; no task may be retried (a death fails its cell)."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=0, silence_logs=50,
                         dashboard_address=":0")
    yield c.scheduler_address
    c.close()


def _dies_on_seed_1(cell, out, mnist_dir, cache_dir):
    if cell.seed == 1:
        os._exit(17)  # the worker process ends as a crash or an out-of-memory kill would end it
    return run_cell(cell, out, mnist_dir, cache_dir)


def _must_not_run(cell, out, mnist_dir, cache_dir):
    raise AssertionError("a finished cell ran again")


def test_tiny_matrix_with_a_dying_worker_then_rerun_then_skipped(cluster, tmp_path):
    cells = tiny([0, 1])
    lines = []
    # 1. Two cells; the worker running seed 1 dies: that cell fails with the reason, the other finishes.
    outcome = engine.run(cells, tmp_path, scheduler=cluster, task=_dies_on_seed_1, say=lines.append)
    dead = "twolayer/float32/seed-1"
    assert list(outcome.finished) == ["twolayer/float32/seed-0"] and list(outcome.failed) == [dead]
    assert "worker process died" in outcome.failed[dead]
    assert any(line.startswith("[2/2] ") for line in lines) and any(line.startswith("dashboard:") for line in lines)
    state, reason = disk.status(cells[1], tmp_path)
    assert state == "failed" and "worker process died" in reason
    meta = json.loads((cells[0].folder(tmp_path) / "run.json").read_text())
    assert meta["config_hash"] == cells[0].digest() and meta["finished"] is True
    assert "failed: its worker process died" in (tmp_path / "matrix.csv").read_text()
    # 2. The next invocation skips the finished cell and reruns the failed one.
    lines.clear()
    rerun = engine.run(cells, tmp_path, scheduler=cluster, say=lines.append)
    assert rerun.skipped == ["twolayer/float32/seed-0"] and list(rerun.finished) == [dead] and rerun.ok
    assert any(line.startswith(f"rerun {dead}: failed last time") for line in lines)
    assert not (cells[1].folder(tmp_path) / disk.FAILED).exists()
    assert [disk.status(c, tmp_path)[0] for c in cells] == ["finished", "finished"]
    assert (tmp_path / "matrix.csv").read_text().count("finished") == 2
    assert (tmp_path / "README.md").exists() and (tmp_path / "seed-1" / "float32" / "twolayer" / "run.json").exists()
    # 3. Everything finished: nothing runs, and no scheduler is even contacted (this address answers nothing).
    again = engine.run(cells, tmp_path, scheduler="tcp://127.0.0.1:9", timeout=1, task=_must_not_run,
                       say=lines.append)
    assert sorted(again.skipped) == sorted(c.key for c in cells) and not again.finished and not again.failed
    # A changed budget is another configuration: that cell is not finished any more.
    changed = spec.cells(["twolayer"], ["float32"], [0], **{**TINY, "epochs": 0.03})[0]
    assert disk.status(changed, tmp_path)[0] == "other config"


def test_an_unfinished_run_json_is_an_interrupted_cell(tmp_path):
    cell = tiny([4])[0]
    folder = cell.folder(tmp_path)
    folder.mkdir(parents=True)
    meta = {"config_hash": cell.digest(), "finished": False, "stop": {"reason": "interrupted", "epoch": 0, "step": 3}}
    (folder / "run.json").write_text(json.dumps(meta))
    state, detail = disk.status(cell, tmp_path)
    assert state == "interrupted" and "step 3" in detail


@pytest.mark.parametrize("text, seeds", [("0-3", [0, 1, 2, 3]), ("7", [7]), ("0-2,5, 9", [0, 1, 2, 5, 9]),
                                         ("3,3,1", [1, 3])])
def test_seed_lists(text, seeds):
    assert spec.parse_seeds(text) == seeds


@pytest.mark.parametrize("text, match", [("x", "'x'"), ("5-3", "empty"), ("", "expected seeds"), ("1,a", "'a'"),
                                         ("-1", "'-1'"), (f"0-{2**32}", "above 2")])
def test_bad_seed_lists(text, match):
    with pytest.raises(ValueError, match=match):
        spec.parse_seeds(text)


def _no_work(args):
    raise AssertionError("the matrix ran although its input is invalid")


@pytest.mark.parametrize("argv, code, match", [
    (["matrix", "--model", "resnet"], 2, "argument --model"),
    (["matrix", "--study", "nope"], 2, "argument --study: invalid choice"),
    (["matrix", "--model", "twolayer", "--seeds", "a-b"], 2, "argument --seeds"),
    (["matrix", "--model", "twolayer", "--seeds", "5-3"], 2, "is empty"),
    (["matrix"], 2, "the matrix is empty"),
    (["matrix", "--model", "twolayer", "--workers", "0"], 2, "argument --workers"),
    (["matrix", "--model", "twolayer", "--scheduler", "nohost"], 2, "expected an address"),
])
def test_bad_input_is_refused_before_any_work(capsys, monkeypatch, argv, code, match):
    monkeypatch.setattr(engine, "run", _no_work)
    try:
        got = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors
        got = exc.code
    out, err = capsys.readouterr()
    assert got == code and match in err and "Traceback" not in out + err


def test_an_unreachable_scheduler_is_a_clear_error(capsys, tmp_path):
    argv = ["matrix", "--model", "twolayer", "--dtype", "float32", "--seeds", "0", "--impl", "scratch", "--epochs",
            "0.02", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9", "--timeout", "1"]
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert "--scheduler tcp://127.0.0.1:9: no Dask scheduler answered within 1 s" in err
    assert "Traceback" not in out + err and not list(tmp_path.iterdir())
