"""The command line checks every argument before any work and prints errors without a traceback."""

from __future__ import annotations

import pytest

from comparisons import cli


def run(capsys, argv):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, err


@pytest.mark.parametrize("argv, match", [
    (["mnist", "--model", "mlp4x32", "--epochs", "nan"], "argument --epochs: expected a finite number > 0"),
    (["mnist", "--model", "mlp4x32", "--epochs", "inf"], "argument --epochs: expected a finite number > 0"),
    (["mnist", "--model", "mlp4x32", "--epochs", "0"], "argument --epochs: expected a finite number > 0"),
    (["mnist", "--model", "mlp4x32", "--seed", "-1"], "argument --seed: expected an integer >= 0"),
    (["mnist", "--model", "mlp4x32", "--seed", str(2**32)], "argument --seed: expected an integer >= 0 and <= "),
    (["mnist", "--model", "mlp4x32", "--train-limit", "0"], "argument --train-limit: expected an integer >= 1"),
    (["numgrad-train", "--model", "twolayer", "--lr", "-1"], "argument --lr: expected a finite number > 0"),
    (["numgrad-train", "--model", "twolayer", "--lr", "nan"], "argument --lr: expected a finite number > 0"),
    (["numgrad-train", "--model", "twolayer", "--h", "inf"], "argument --h: expected a finite number > 0"),
    (["bench", "--profile-iterations", "-1"], "argument --profile-iterations: expected an integer >= 0"),
])
def test_bad_numbers_are_usage_errors(capsys, monkeypatch, argv, match):
    monkeypatch.setattr(cli, "build_parser", _no_work(cli.build_parser))
    code, err = run(capsys, argv)
    assert code == 2 and match in err and "usage:" in err


def _no_work(build):
    """The real parser, with every command's work replaced by a failure: the checks must come first."""
    def wrapped():
        parser = build()
        for action in parser._actions:
            for sub in getattr(action, "choices", None) or {}:
                action.choices[sub].set_defaults(func=_fail)
        return parser
    return wrapped


def _fail(args):
    raise AssertionError("the command ran although its arguments are invalid")


def test_output_under_a_file_is_refused_before_work(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "build_parser", _no_work(cli.build_parser))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for argv in (["parity", "--case", "relu", "--out", str(blocker / "sub")],
                 ["small-tasks", "--out", str(blocker)],
                 ["mnist", "--model", "mlp4x32", "--out", str(blocker / "a" / "b")]):
        code, err = run(capsys, argv)
        assert code == 2 and f"argument --out: {blocker}" in err and "is a file" in err


def test_mnist_dir_must_be_a_directory(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "build_parser", _no_work(cli.build_parser))
    f = tmp_path / "train.gz"
    f.write_bytes(b"")
    code, err = run(capsys, ["mnist", "--model", "mlp4x32", "--mnist-dir", str(f)])
    assert code == 2 and f"expected a directory holding the four MNIST IDX files, {f} is a file" in err
    code, err = run(capsys, ["mnist", "--model", "mlp4x32", "--mnist-dir", str(tmp_path / "none")])
    assert code == 2 and "does not exist" in err


def test_failures_print_the_message_and_exit_1(capsys, monkeypatch):
    from comparisons.data.mnist import MnistUnavailableError

    def unavailable(args):
        raise MnistUnavailableError([("cache", "/nowhere", "missing")])

    def build():
        parser = original()
        for action in parser._actions:
            for sub in getattr(action, "choices", None) or {}:
                action.choices[sub].set_defaults(func=unavailable)
        return parser

    original = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", build)
    monkeypatch.delenv("DLPARITY_DEBUG", raising=False)
    code, err = run(capsys, ["mnist", "--model", "mlp4x32"])
    assert code == 1 and "MNIST could not be loaded" in err and "What to do" in err
    monkeypatch.setenv("DLPARITY_DEBUG", "1")
    with pytest.raises(MnistUnavailableError):
        cli.main(["mnist", "--model", "mlp4x32"])


def test_valid_arguments_pass_the_checks(tmp_path):
    args = cli.build_parser().parse_args(["mnist", "--model", "mlp4x32", "--epochs", "0.5", "--seed", "0",
                                          "--out", str(tmp_path / "new" / "dir"), "--mnist-dir", str(tmp_path)])
    assert cli.check_numbers(args) == [] and cli.check_directories(args) == []
    assert not (tmp_path / "new").exists()  # the check creates nothing


def test_bench_accepts_no_profile():
    """``--profile-iterations 0`` means no profile, as its help says."""
    args = cli.build_parser().parse_args(["bench", "--profile-iterations", "0"])
    assert cli.check_numbers(args) == []
