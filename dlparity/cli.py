"""The ``dlparity`` console script: the command line of ``comparisons``, under the name ``dlparity``.

In an install without the extras the commands cannot run; the script then says what to install
instead of printing a ModuleNotFoundError traceback.
"""

from __future__ import annotations

import sys

#: modules of the extras (frameworks, reports) and of the studies the commands need
OPTIONAL = {"torch", "tensorflow", "keras", "pandas", "matplotlib", "tabulate", "markdown_it", "jinja2", "scipy",
            "tqdm", "threadpoolctl", "dask", "distributed", "hypothesis", "tf_keras", "h5py", "ml_dtypes"}
INSTALL = 'pip install "dlparity[frameworks,reports]"'


def _missing(err: ImportError) -> bool:
    name = (getattr(err, "name", None) or "").split(".")[0]
    return name in OPTIONAL


def main(argv: list[str] | None = None) -> int:
    """Run ``dlparity COMMAND ...``; exit code 1 with an install hint when an extra is missing."""
    try:
        from comparisons.cli import main as run

        return run(argv, prog="dlparity")
    except ImportError as err:
        if not _missing(err):
            raise
        print(f"dlparity: this command needs Keras, PyTorch and the report tools, and module {err.name!r} is not "
              f"installed.\nInstall them with: {INSTALL}\n(pip install dlparity alone gives the NumPy components, "
              "scratch, and nothing else.)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
