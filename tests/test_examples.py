"""The examples of README "Check your own code" run, the pytest plugin works outside the project, and the
packaging promises hold (NumPy-only install, the ImportError naming the extra, the console script)."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}


@pytest.mark.parametrize(("name", "shows"), [("check_textbook_layers.py", "caught: grad:W"),
                                             ("check_keras_port.py", "the models part at layer 5 (Dense | Linear)")])
def test_example_runs(name, shows, capsys):
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")  # its asserts are the test
    out = capsys.readouterr().out
    assert "OK (" in out and shows in out


FAILING = '''
import numpy as np
import torch


class Doubled:
    def forward(self, x):
        return 2 * x

    def backward(self, dout):
        return dout


def test_wrong(parity):
    parity.check_layer(Doubled(), torch.nn.Identity(), np.arange(6.0).reshape(2, 3))
'''


def test_the_fixture_works_from_a_test_file_outside_the_project(tmp_path):
    (tmp_path / "test_fixture_example.py").write_text((EXAMPLES / "test_parity_fixture.py").read_text())
    (tmp_path / "test_fails.py").write_text(FAILING)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "dlparity.pytest_plugin"]
    run = subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    out = run.stdout
    assert "1 failed, 2 passed" in out, out + run.stderr
    assert "ParityError" in out and "output vs torch.nn.Identity (float64, train): FAIL" in out
    assert "max abs error 5.000e+00, max rel error 1.000e+00" in out and "at index (1, 2)" in out


def test_the_plugin_and_the_console_script_are_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"dlparity.pytest_plugin": "dlparity.pytest_plugin"}
    assert project["scripts"]["dlparity"] == "dlparity.cli:main"
    from dlparity import pytest_plugin

    assert callable(pytest_plugin.parity)


def test_the_console_script_says_dlparity(capsys):
    from dlparity.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out.startswith("usage: dlparity [-h] COMMAND")
    with pytest.raises(SystemExit):
        main(["parity", "--dtype", "float16"])
    assert "usage: dlparity parity" in capsys.readouterr().err


NUMPY_ONLY = '''
import sys
for name in ("torch", "tensorflow", "keras", "pandas", "matplotlib", "scipy", "jinja2", "markdown_it", "tabulate"):
    sys.modules[name] = None  # as if not installed
import numpy as np
import dlparity
from scratch.layers import Dense
from scratch.textbook.layers import Affine
W, b = np.arange(6.0).reshape(3, 2), np.ones(2)
print("scratch reference ok:", dlparity.check_layer(Affine(W, b), Dense(3, 2, W=W, b=b), np.ones((4, 3))).ok)
try:
    dlparity.check_port(object(), object(), np.ones((2, 3)))
except ImportError as err:
    print("ImportError:", err)
from dlparity.cli import main
sys.exit(main(["list"]))
'''


def test_numpy_only_install():
    run = subprocess.run([sys.executable, "-c", NUMPY_ONLY], cwd=ROOT, env=ENV, capture_output=True, text=True,
                         timeout=300)
    assert "scratch reference ok: True" in run.stdout, run.stdout + run.stderr
    assert 'ImportError: dlparity.check_port needs Keras and PyTorch' in run.stdout
    assert 'pip install "dlparity[frameworks]"' in run.stdout
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert 'Install them with: pip install "dlparity[frameworks,reports]"' in run.stderr


@pytest.mark.slow
def test_the_entry_point_in_a_fresh_environment(tmp_path):
    """A throwaway venv sharing the project venv's site-packages, dlparity installed into it (no deps): the
    fixture comes from the installed entry point, with no -p option."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python3*/site-packages"))
    shared = next(p for p in map(Path, sys.path) if p.name == "site-packages" and (p / "numpy").exists())
    (site / "shared.pth").write_text(f"{shared}\n")
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", str(ROOT)],
                   check=True, timeout=600, capture_output=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "test_fixture_example.py").write_text((EXAMPLES / "test_parity_fixture.py").read_text())
    env = {k: v for k, v in ENV.items() if k != "PYTHONPATH"}
    run = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=outside, env=env,
                         capture_output=True, text=True, timeout=600)
    assert "2 passed" in run.stdout, run.stdout + run.stderr
    script = subprocess.run([venv / "bin" / "dlparity", "--help"], env=env, capture_output=True, text=True, timeout=300)
    assert script.stdout.startswith("usage: dlparity")
