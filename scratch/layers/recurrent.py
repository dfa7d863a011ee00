"""Recurrent layers: SimpleRNN, LSTM and GRU over (N, T, F) sequences, in Keras's weight layout.

Every layer keeps ``W`` (F, k*u) (the input kernel), ``U`` (u, k*u) (the recurrent kernel) and
``b``, the gates side by side in Keras's order (LSTM i, f, c, o; GRU z, r, h).

``forward(x, *, training, initial_state=None)`` returns the last hidden state (N, u), or every
hidden state (N, T, u) with ``return_sequences=True``; ``final_state`` holds the final states
((h,) or, for the LSTM, (h, c)). ``backward(dy, *, d_state=None)`` runs backpropagation through
time (Werbos 1990) with upstream gradients for the output and, optionally, for the final states;
it overwrites ``grads`` and sets ``d_initial_state``.

Algorithm. The input projection of all steps is one product ``x @ W``, (T*N, F) @ (F, k*u), into
a (T, N, k*u) array ``a``. Each step adds the input bias to its slice of ``a`` (while that slice is
in cache), makes one product ``h @ U`` for all gates over the whole batch (a GRU with
``reset_after=False`` needs a second, ``(r * h) @ U_h``, since its reset gate acts before the
product), adds it in and applies the gate nonlinearities there in place, so ``a`` ends up holding
every step's gate values. A training forward keeps ``a`` and every step's states in stacked arrays
(the hidden states H (T+1, N, u) with the initial state in H[0]; the LSTM's cell states and their
tanh; the GRU's ``1 - z`` and ``m = h U + b[1]``), written in place step by step: no per-step
allocation and no copies. An evaluation forward keeps no cache: two alternating state buffers (all
hidden states with ``return_sequences``), and references to x and the initial state, from which a
backward that follows reruns the training forward (the same operations, the same numbers).

The backward walks from step T down to 1 with a few in-place products per step on preallocated
buffers; the factors that depend on the forward only (``1 - tanh(c)^2``, ``1 - sigmoid``, ...) are
computed for all steps at once before the loop. The weight gradients are one product each over all
steps after the loop: dW = x^T da, (F, T*N) @ (T*N, k*u); dU = sum_t h_{t-1}^T da_t as
(u, T*N) @ (T*N, k*u) over the stacked H; db a sum over steps and batch; dx = da W^T. Every
element-wise value is the one of the per-step formulas in the class docstrings, rounded in the
same order, and the products are the same BLAS calls on the same operands: the results do not
depend on this arrangement.

Work arrays: those large arrays (``a``, the stacked states, the backward's gradients and factors)
stay with the layer between calls, one set for training and one for evaluation, and are reused
while the batch shape stays the same; fresh memory would cost a page fault per 4 KiB page on first
touch (thousands per step for a row model). Everything a call returns (output, final states, dx,
gradients, ``d_initial_state``) is a new array.

Framework notes: Keras ``SimpleRNN``/``LSTM``/``GRU`` use these layouts (kernel (F, k*u),
recurrent_kernel (u, k*u)); PyTorch's ``nn.RNN``/``nn.LSTM``/``nn.GRU`` keep ``weight_ih`` (k*u, F)
and ``weight_hh`` (k*u, u) (transposed), two biases ``bias_ih`` and ``bias_hh`` where Keras has one
(LSTM, SimpleRNN: only their sum matters), and the GRU gates in the order r, z, n. All
conversions live in ``reference/layouts.py``.
"""

from __future__ import annotations

import numpy as np

from scratch import initializers
from scratch._checks import check_array, check_finite_result, check_positive_int, check_shape, fingerprint
from scratch.layers.base import Layer


def _at(stack: np.ndarray, t: int) -> np.ndarray:
    """Slot t of a stacked buffer: every step's own (training) or two alternating ones (evaluation)."""
    return stack[t % len(stack)]


class _Recurrent(Layer):
    """Shared plumbing: checks, the input projection, the time loop and the weight gradients.

    A subclass sets ``n_gates`` and ``state_names`` and implements ``_buffers`` (its forward
    arrays), ``_step`` (one time step forward, in place in the step's slice of ``a``),
    ``_prepare_back`` and ``_step_back`` (one step backward, in place); ``_bias_shape`` and
    ``_grad_U`` where they differ.
    """

    per_sample = True  # in evaluation mode sample n of the output reads sample n of the input only
    _keeps = ("input",)
    n_gates = 1
    state_names: tuple[str, ...] = ("h",)
    _separate_rec = False  # True: the recurrent pre-activation gradient differs from the input one

    def __init__(self, input_size: int, units: int, *, return_sequences: bool = False,
                 W: np.ndarray | None = None, U: np.ndarray | None = None, b: np.ndarray | None = None,
                 weight_init="glorot_uniform", recurrent_init="glorot_uniform", bias_init="zeros",
                 rng: np.random.Generator | None = None, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.input_size = check_positive_int(input_size, "input_size")
        self.units = check_positive_int(units, "units")
        self.return_sequences = bool(return_sequences)
        k = self.n_gates * self.units
        common = {"rng": rng, "dtype": self.dtype}
        if W is None:
            W = initializers.get(weight_init)((self.input_size, k), fan_in=self.input_size, fan_out=k, **common)
        if U is None:
            U = initializers.get(recurrent_init)((self.units, k), fan_in=self.units, fan_out=k, **common)
        if b is None:
            b = initializers.get(bias_init)(self._bias_shape(), fan_in=self.input_size, fan_out=k, **common)
        self._param("W", W, (self.input_size, k))
        self._param("U", U, (self.units, k))
        self._param("b", b, self._bias_shape())
        self.final_state: tuple[np.ndarray, ...] = ()
        self.d_initial_state: tuple[np.ndarray, ...] = ()
        self._s: dict[str, np.ndarray] | None = None
        self._ws: dict[tuple[str, bool], np.ndarray] = {}

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.n_gates * self.units,)

    def _input_bias(self) -> np.ndarray:
        return self.params["b"]

    def _work(self, name: str, shape: tuple[int, ...], training: bool = True) -> np.ndarray:
        """The layer's work array ``name`` (one set for training, one for evaluation), reused while
        its shape stays the same: fresh memory costs a page fault per 4 KiB page on first touch,
        several milliseconds per step for the arrays of a row model."""
        arr = self._ws.get((name, training))
        if arr is None or arr.shape != shape:
            arr = self._ws[(name, training)] = np.empty(shape, dtype=self.dtype)
        return arr

    # -- public protocol, with the initial state and the final-state gradients -----------------
    def forward(self, x: np.ndarray, *, training: bool,
                initial_state: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
        """Check ``x`` (N, T, F) and ``initial_state`` (one (N, u) array per state), run the sequence.

        Raises:
            ValueError: x not (N, T, input_size), or a wrong initial state.
        """
        check_array(x, "x", dtype=self.dtype)
        self._guard = []
        with np.errstate(over="ignore", invalid="ignore"):
            y = self._forward(x, training=training, initial_state=initial_state)
        check_finite_result(y, f"{type(self).__name__}.forward output", "check the weights and the scale of x")
        self._guard = [("input", x, fingerprint(x))]
        return y

    def backward(self, dy: np.ndarray, *, d_state: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
        """dL/dx (N, T, F) from ``dy`` (the output's gradient) and ``d_state`` (the final states');
        overwrites ``grads`` and sets ``d_initial_state``."""
        self._d_state = self._check_states(d_state, "d_state", self._n) if d_state is not None else None
        return super().backward(dy)

    def _check_states(self, states, name: str, n: int) -> tuple[np.ndarray, ...]:
        want = len(self.state_names)
        if not isinstance(states, (tuple, list)) or len(states) != want:
            raise ValueError(f"{name}: expected a tuple of {want} arrays ({', '.join(self.state_names)}) of shape "
                             f"(N, {self.units}), got {type(states).__name__}"
                             f"{' of length ' + str(len(states)) if isinstance(states, (tuple, list)) else ''}")
        for s, sname in zip(states, self.state_names, strict=True):
            check_array(s, f"{name}[{sname}]", dtype=self.dtype)
            check_shape(s, (n, self.units), f"{name}[{sname}]")
        return tuple(states)

    # -- the loop ------------------------------------------------------------------------------
    def _forward(self, x: np.ndarray, *, training: bool, initial_state=None) -> np.ndarray:
        self._check_input(x)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x: expected a sequence batch of shape (N, T, {self.input_size}) (batch, time steps, "
                             f"features), got shape {x.shape}")
        n, steps, _ = x.shape
        if steps == 0:
            raise ValueError(f"x: expected at least one time step, got shape {x.shape}")
        if initial_state is None:
            state = tuple(np.zeros((n, self.units), dtype=self.dtype) for _ in self.state_names)
        else:
            state = self._check_states(initial_state, "initial_state", n)
        self._n, self._x, self._initial = n, x, initial_state
        k = self.n_gates * self.units
        xt = self._work("xt", (steps * n, self.input_size), training)
        np.copyto(xt.reshape(steps, n, self.input_size), x.transpose(1, 0, 2))  # (N, T, F) -> (T*N, F)
        a = self._work("a", (steps, n, k), training)
        np.matmul(xt, self.params["W"], out=a.reshape(steps * n, k))  # (T, N, k*u): every step's x_t W
        bias = self._input_bias()
        keep = training or self.return_sequences  # every hidden state, or two alternating buffers
        h = self._work("h", (steps + 1 if keep else 2, n, self.units), training)
        h[0] = state[0]
        self._s = {"a": a, "h": h, **self._buffers(n, steps, training, state)}
        for t in range(steps):
            at = np.add(a[t], bias, out=a[t])  # x_t W + b, added while the step's slice is in cache
            state = self._step(at, state, t)
        self.final_state = tuple(s.copy() for s in state)
        y = np.ascontiguousarray(h[1:].transpose(1, 0, 2)) if self.return_sequences else state[0].copy()
        self._out_shape = y.shape
        if training:
            self._xt = xt
        else:  # no cache: a backward that follows reruns the training forward from x
            self._xt = self._s = None
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        d_state = getattr(self, "_d_state", None)
        self._d_state = None
        if self._s is None:  # the last forward was an evaluation one
            self._forward(self._x, training=True, initial_state=self._initial)
        steps, n, k = self._s["a"].shape
        ds = [np.zeros((n, self.units), dtype=self.dtype) for _ in self.state_names] if d_state is None \
            else [s.copy() for s in d_state]
        dax = self._work("dax", (steps, n, k))
        drec = self._work("drec", (steps, n, k)) if self._separate_rec else dax
        self._prepare_back(n)
        for t in reversed(range(steps)):
            if self.return_sequences:
                ds[0] += dy[:, t]
            elif t == steps - 1:
                ds[0] += dy
            self._step_back(ds, t, dax[t], drec[t])
        self._b = None
        self.d_initial_state = tuple(ds)
        self.grads["W"] = self._xt.T @ dax.reshape(steps * n, k)
        self.grads["U"] = self._grad_U(drec)
        self.grads["b"] = self._grad_b(dax, drec)
        if not need_dx:
            return None
        dx = (dax.reshape(steps * n, k) @ self.params["W"].T).reshape(steps, n, self.input_size)
        return np.ascontiguousarray(dx.transpose(1, 0, 2))  # (T, N, F) -> (N, T, F)

    def _grad_U(self, drec: np.ndarray) -> np.ndarray:
        """dU = sum_t h_{t-1}^T drec_t, as one product over all steps: (u, T*N) @ (T*N, k*u)."""
        hprev = self._s["h"][:-1]  # (T, N, u), contiguous
        return hprev.reshape(-1, self.units).T @ drec.reshape(-1, drec.shape[2])

    def _grad_b(self, dax: np.ndarray, drec: np.ndarray) -> np.ndarray:
        return dax.sum(axis=(0, 1))

    def _buffers(self, n: int, steps: int, training: bool, state: tuple) -> dict[str, np.ndarray]:
        """The subclass's forward arrays besides ``a`` and ``h``: the recurrent product's (N, k*u)."""
        return {"p": self._work("p", (n, self.n_gates * self.units), training)}

    def _step(self, a: np.ndarray, state: tuple, t: int) -> tuple:  # pragma: no cover
        """Step t: ``a`` (N, k*u) holds x_t W + b; add h_{t-1} U, apply the gates in place, return the states."""
        raise NotImplementedError

    def _prepare_back(self, n: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def _step_back(self, ds: list, t: int, dax: np.ndarray, drec: np.ndarray) -> None:  # pragma: no cover
        """Step t backward: fill ``dax`` (and ``drec``) (N, k*u), turn ``ds`` into step t-1's, in place."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.input_size}, {self.units}, return_sequences={self.return_sequences}, "
                f"dtype={self.dtype.name})")


class SimpleRNN(_Recurrent):
    """Elman recurrence (Elman 1990): h_t = tanh(x_t W + h_{t-1} U + b), b of shape (u,).

    Backward (per step, from t = T down to 1, dh the gradient reaching h_t)::

        da = dh * (1 - h_t^2);  dW += x_t^T da;  dU += h_{t-1}^T da;  db += sum_n da;  dh_{t-1} = da U^T

    (``1 - h_t^2`` is computed for all steps before the loop; the sums over t are the products
    after it, as described in the module docstring.)

    Framework notes: Keras ``SimpleRNN(units, activation="tanh")``: kernel W, recurrent_kernel U,
    bias b. PyTorch ``nn.RNN(nonlinearity="tanh", batch_first=True)``: weight_ih_l0 = W^T,
    weight_hh_l0 = U^T, and two biases whose sum is b.

    Args:
        input_size: F, features per time step.
        units: u, the size of the hidden state.
        return_sequences: return every step's h (N, T, u) instead of the last (N, u).
        W, U, b: explicit initial values (W (F, u), U (u, u), b (u,)); otherwise drawn with
            ``weight_init`` (default ``"glorot_uniform"``, Keras's), ``recurrent_init`` (default
            ``"glorot_uniform"``; Keras's own default is orthogonal: pass U to reproduce it),
            ``bias_init`` (default ``"zeros"``).
        rng: generator for random initializers.
        dtype: ``"float32"`` or ``"float64"`` (default ``"float64"``).
    """

    def _step(self, a, state, t):
        h = _at(self._s["h"], t + 1)
        np.add(a, np.matmul(state[0], self.params["U"], out=self._s["p"]), out=a)
        np.tanh(a, out=h)
        return (h,)

    def _prepare_back(self, n):
        h = self._s["h"][1:]
        k = np.multiply(h, h, out=self._work("k", h.shape))
        self._b = {"k": np.subtract(1, k, out=k)}  # (T, N, u): tanh' at every step, 1 - h^2

    def _step_back(self, ds, t, dax, drec):
        np.multiply(ds[0], self._b["k"][t], out=dax)
        np.matmul(dax, self.params["U"].T, out=ds[0])
