"""PyTorch initializers drawn for a scratch kernel shape and returned in scratch layout.

A ``TorchInit`` is either a function of ``torch.nn.init`` (``"kaiming_normal_"``, ...) applied to an
empty tensor with a seeded ``torch.Generator``, or a module's own default initialisation
(``"nn.Linear.weight"``, ``"nn.Linear.bias"``, ``"nn.Conv2d.weight"``, ...), built under
``torch.random.fork_rng`` with ``torch.manual_seed`` so the global generator is left as it was.
The tensor has PyTorch's layout (dense (out, in), conv (F, C, KH, KW)), so PyTorch computes its own
fans (``_calculate_fan_in_and_fan_out``); the result is converted to scratch layout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from reference import frameworks, layouts

Kwargs = Mapping[str, object] | Callable[[int, int], Mapping[str, object]]
MODULES = ("nn.Linear", "nn.Conv2d", "nn.Embedding")
#: Modules whose 2-D weight is laid out as in scratch (an Embedding table (num, dim) is not transposed).
SAME_LAYOUT = ("nn.Embedding",)


@dataclass(frozen=True)
class TorchInit:
    """``torch.nn.init.<name>(w, **kwargs, generator=g)`` or ``<module>.<weight|bias>`` defaults."""

    name: str
    kwargs: Kwargs = ()

    def arguments(self, fan_in: int, fan_out: int) -> dict[str, object]:
        kw = self.kwargs(fan_in, fan_out) if callable(self.kwargs) else self.kwargs
        return dict(kw)

    def call(self, fan_in: int, fan_out: int) -> str:
        """The call written out, for the reports."""
        args = ", ".join(f"{k}={_fmt(v)}" for k, v in self.arguments(fan_in, fan_out).items())
        module, _, attr = self.name.rpartition(".")
        if module in MODULES:
            return f"torch.{module}({args}).{attr} (default initialisation)"
        return f"torch.nn.init.{self.name}(w, {args}{', ' if args else ''}generator=g)"

    def draw(self, shape: tuple[int, ...], *, fan_in: int, fan_out: int, seed: int, dtype: str) -> np.ndarray:
        """One draw of shape ``shape`` (scratch layout) in ``dtype``."""
        torch = frameworks.torch()
        tdtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
        kw = self.arguments(fan_in, fan_out)
        module, _, attr = self.name.rpartition(".")
        if module in MODULES:
            out = self._module_default(torch, module, attr, kw, shape, seed, tdtype)
        else:
            w = torch.empty(_torch_shape(shape), dtype=tdtype)
            fn = getattr(torch.nn.init, self.name)
            if self.name in ("zeros_", "ones_"):
                fn(w, **kw)
            else:
                fn(w, **kw, generator=torch.Generator().manual_seed(int(seed)))
            out = w.detach().numpy()
        if out.dtype != np.dtype(dtype):
            raise RuntimeError(f"PyTorch {self.name} returned {out.dtype}, expected {dtype}")
        return layouts.dense_from_torch(out) if len(shape) == 2 and module not in SAME_LAYOUT else out

    @staticmethod
    def _module_default(torch, module, attr, kw, shape, seed, tdtype) -> np.ndarray:
        """Parameters of freshly built modules; several modules when one does not give enough values."""
        cls = getattr(torch.nn, module.split(".")[1])
        size = math.prod(shape)
        parts, have = [], 0
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            while have < size:
                p = getattr(cls(**kw, dtype=tdtype), attr).detach().numpy()
                expected = tuple(shape) if module in SAME_LAYOUT else _torch_shape(shape)
                if attr == "weight" and p.shape != expected:
                    raise ValueError(f"shape: {module}({kw}).weight has shape {p.shape}, expected "
                                     f"{expected} (PyTorch layout of {shape})")
                parts.append(p)
                have += p.size
        if have != size or (attr == "weight" and len(parts) != 1):
            raise ValueError(f"shape: {shape} is not filled exactly by {module}({kw}).{attr}")
        return parts[0] if attr == "weight" else np.concatenate(parts).reshape(shape)


def _torch_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Scratch layout -> PyTorch layout: dense (in, out) -> (out, in); conv and 1-D unchanged."""
    return (shape[1], shape[0]) if len(shape) == 2 else tuple(shape)


def _fmt(v: object) -> str:
    return f"{v:.6g}" if isinstance(v, float) else repr(v)
