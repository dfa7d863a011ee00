"""Gated recurrent layers: LSTM and GRU (the loop and the layouts are in ``recurrent``)."""

from __future__ import annotations

import numpy as np

from scratch._checks import check_choice
from scratch.layers.recurrent import _Recurrent, _sigmoid


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

    One product per step for the four gates, in Keras's order i, f, c, o (u columns each)::

        a = x_t W + h_{t-1} U + b                     (N, 4u)
        i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_c), o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)

    Backward (dh, dc: the gradients reaching h_t and c_t)::

        dc += dh * o * (1 - tanh(c_t)^2);  da_o = dh * tanh(c_t) * o (1 - o)
        da_i = dc * g * i (1 - i);  da_f = dc * c_{t-1} * f (1 - f);  da_c = dc * i * (1 - g^2)
        dc_{t-1} = dc * f;  dh_{t-1} = da U^T;  dW += x_t^T da;  dU += h_{t-1}^T da;  db += sum_n da

    Framework notes: Keras ``LSTM`` has this layout and one bias (4u,); its ``unit_forget_bias=True``
    default adds 1 to the forget-gate bias at initialisation (``unit_forget_bias=False`` with an
    explicit bias reproduces any b). PyTorch ``nn.LSTM``: the same gate order (i, f, g, o),
    weight_ih_l0 = W^T, weight_hh_l0 = U^T and two biases, bias_ih_l0 + bias_hh_l0 = b; every weight
    and bias drawn from U(+-1/sqrt(u)) by default.

    Args: as ``SimpleRNN`` (W (F, 4u), U (u, 4u), b (4u,)); states (h, c).
    """

    n_gates = 4
    state_names = ("h", "c")

    def _step(self, ax, state, cache):
        h_prev, c_prev = state
        u = self.units
        a = ax + h_prev @ self.params["U"]  # (N, 4u): all gates in one product
        gates = np.empty_like(a)
        gates[:, :2 * u] = _sigmoid(a[:, :2 * u])  # i, f
        gates[:, 2 * u:3 * u] = np.tanh(a[:, 2 * u:3 * u])  # g (Keras's "c")
        gates[:, 3 * u:] = _sigmoid(a[:, 3 * u:])  # o
        i, f, g, o = (gates[:, j * u:(j + 1) * u] for j in range(4))
        c = f * c_prev + i * g
        tc = np.tanh(c)
        cache.update(gates=gates, tc=tc)
        return o * tc, c

    def _step_back(self, ds, cache):
        dh, dc = ds
        u = self.units
        c_prev = cache["prev"][1]
        gates, tc = cache["gates"], cache["tc"]
        i, f, g, o = (gates[:, j * u:(j + 1) * u] for j in range(4))
        dc = dc + dh * o * (1 - tc * tc)
        da = np.empty_like(gates)
        da[:, :u] = dc * g * i * (1 - i)
        da[:, u:2 * u] = dc * c_prev * f * (1 - f)
        da[:, 2 * u:3 * u] = dc * i * (1 - g * g)
        da[:, 3 * u:] = dh * tc * o * (1 - o)
        return da, da, [da @ self.params["U"].T, dc * f]


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al. 2014), Keras's gate order z, r, h (u columns each).

    ``reset_after=True`` (Keras's default, and PyTorch's only form), one product per step::

        ax = x_t W + b[0];   m = h_{t-1} U + b[1]                           (N, 3u) each
        z = sigmoid(ax_z + m_z);  r = sigmoid(ax_r + m_r);  hh = tanh(ax_h + r * m_h)
        h_t = z * h_{t-1} + (1 - z) * hh

    ``reset_after=False`` (the 2014 paper's form): b has shape (3u,) and the reset gate acts before
    the product, so the candidate needs a second one: hh = tanh(ax_h + (r * h_{t-1}) U_h).

    Backward (dh reaching h_t): dz = dh (h_{t-1} - hh); dhh = dh (1 - z); da_h = dhh (1 - hh^2);
    da_z = dz z (1 - z); da_r = (da_h m_h) r (1 - r) (after; before: (da_h U_h^T) h_{t-1});
    dh_{t-1} = dh z + (the recurrent pre-activation gradients) U^T.

    Framework notes: Keras ``GRU(reset_after=True)``: kernel (F, 3u), recurrent_kernel (u, 3u),
    bias (2, 3u) (row 0 input, row 1 recurrent). PyTorch ``nn.GRU``: gates in the order r, z, n
    (n = Keras's h), weight_ih_l0 (3u, F), weight_hh_l0 (3u, u), bias_ih_l0 = b[0] and
    bias_hh_l0 = b[1], each reordered; it has no reset-before form. A copy that keeps Keras's
    z, r order trains, and is a different network.

    Args: as ``SimpleRNN`` (W (F, 3u), U (u, 3u), b (2, 3u) or (3u,)), plus
        reset_after: where the reset gate acts (default True, Keras's default).
    """

    n_gates = 3

    def __init__(self, input_size: int, units: int, *, reset_after: bool = True, **kw) -> None:
        check_choice(reset_after, "reset_after", (True, False))
        self.reset_after = bool(reset_after)
        super().__init__(input_size, units, **kw)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        return self.params["b"][0] if self.reset_after else self.params["b"]

    def _step(self, ax, state, cache):
        (h_prev,), u, U = state, self.units, self.params["U"]
        if self.reset_after:
            m = h_prev @ U + self.params["b"][1]  # (N, 3u): all gates in one product
            zr = _sigmoid(ax[:, :2 * u] + m[:, :2 * u])
            mh = m[:, 2 * u:]
            hh = np.tanh(ax[:, 2 * u:] + zr[:, u:] * mh)
        else:
            zr = _sigmoid(ax[:, :2 * u] + h_prev @ U[:, :2 * u])
            mh = zr[:, u:] * h_prev  # r * h_{t-1}, the input of the candidate's product
            hh = np.tanh(ax[:, 2 * u:] + mh @ U[:, 2 * u:])
        z = zr[:, :u]
        cache.update(zr=zr, mh=mh, hh=hh)
        return (z * h_prev + (1 - z) * hh,)

    def _step_back(self, ds, cache):
        (dh,), u, U = ds, self.units, self.params["U"]
        h_prev = cache["prev"][0]
        zr, mh, hh = cache["zr"], cache["mh"], cache["hh"]
        z, r = zr[:, :u], zr[:, u:]
        dah = dh * (1 - z) * (1 - hh * hh)
        dax = np.empty((len(dh), 3 * u), dtype=dh.dtype)
        dax[:, :u] = dh * (h_prev - hh) * z * (1 - z)
        dax[:, 2 * u:] = dah
        if self.reset_after:
            dax[:, u:2 * u] = dah * mh * r * (1 - r)
            drec = dax.copy()
            drec[:, 2 * u:] = dah * r
            return dax, drec, [dh * z + drec @ U.T]
        drh = dah @ U[:, 2 * u:].T
        dax[:, u:2 * u] = drh * h_prev * r * (1 - r)
        dh_prev = dh * z + drh * r + dax[:, :2 * u] @ U[:, :2 * u].T
        return dax, dax, [dh_prev]

    def _grad_U(self, drec):
        if self.reset_after:
            return super()._grad_U(drec)
        u = self.units
        hprev = np.stack([c["prev"][0] for c in self._cache]).reshape(-1, u)  # (T*N, u)
        rh = np.stack([c["mh"] for c in self._cache]).reshape(-1, u)  # r * h_{t-1}, (T*N, u)
        d = drec.reshape(-1, 3 * u)
        return np.concatenate([hprev.T @ d[:, :2 * u], rh.T @ d[:, 2 * u:]], axis=1)

    def _grad_b(self, dax, drec):
        if self.reset_after:
            return np.stack([dax.sum(axis=(0, 1)), drec.sum(axis=(0, 1))])
        return dax.sum(axis=(0, 1))

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", reset_after={self.reset_after})"
