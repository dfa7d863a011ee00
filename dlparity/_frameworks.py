"""The frameworks, imported on first use with an ImportError that says what to install.

``pip install dlparity`` gives the NumPy components (``scratch``) only; the checks against Keras and
PyTorch need ``pip install "dlparity[frameworks]"``. The configured imports themselves (TensorFlow
backend, deterministic ops) are ``reference.frameworks``.
"""

from __future__ import annotations

from types import ModuleType

EXTRA = 'pip install "dlparity[frameworks]"'


def missing(what: str, err: ImportError) -> ImportError:
    """The ImportError raised when a check needs a framework that is not installed."""
    name = getattr(err, "name", None) or str(err)
    return ImportError(f"{what} needs Keras and PyTorch, which are not installed (missing module {name!r}); "
                       f"install them with: {EXTRA}")


def torch(what: str = "this check") -> ModuleType:
    """``torch``, configured by ``reference.frameworks`` (deterministic algorithms)."""
    from reference import frameworks

    try:
        return frameworks.torch()
    except ImportError as err:
        raise missing(what, err) from err


def keras(what: str = "this check") -> ModuleType:
    """``keras`` on the TensorFlow backend, configured by ``reference.frameworks``."""
    from reference import frameworks

    try:
        return frameworks.keras()
    except ImportError as err:
        raise missing(what, err) from err


def tf(what: str = "this check") -> ModuleType:
    keras(what)
    from reference import frameworks

    return frameworks.tf()


def require_all(what: str) -> None:
    """Import both frameworks or raise the ImportError naming the extra."""
    torch(what)
    keras(what)
