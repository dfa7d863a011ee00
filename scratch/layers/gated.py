"""Gated recurrent layers: LSTM and GRU (the loop, the layouts and the algorithm are in ``recurrent``)."""

from __future__ import annotations

import numpy as np

from scratch._checks import check_choice
from scratch.layers.activations import sigmoid as _sigmoid
from scratch.layers.recurrent import _at, _Recurrent


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

    In the loop, the four products ``dc * g``, ``dc * c_{t-1}``, ``dc * i``, ``dh * tanh(c_t)`` fill
    one (N, 4u) buffer that is multiplied by the gates and by ``1 - gates`` as a whole (the c slot
    is then overwritten by ``(dc * i) (1 - g^2)``); ``1 - tanh(c_t)^2``, ``1 - g^2`` and ``1 - gates``
    are computed for all steps before it.

    Framework notes: Keras ``LSTM`` has this layout and one bias (4u,); its ``unit_forget_bias=True``
    default adds 1 to the forget-gate bias at initialisation (``unit_forget_bias=False`` with an
    explicit bias reproduces any b). PyTorch ``nn.LSTM``: the same gate order (i, f, g, o),
    weight_ih_l0 = W^T, weight_hh_l0 = U^T and two biases, bias_ih_l0 + bias_hh_l0 = b; every weight
    and bias drawn from U(+-1/sqrt(u)) by default.

    Args: as ``SimpleRNN`` (W (F, 4u), U (u, 4u), b (4u,)); states (h, c).
    """

    n_gates = 4
    state_names = ("h", "c")

    def _buffers(self, n, steps, training, state):
        c = self._work("c", (steps + 1 if training else 2, n, self.units), training)
        c[0] = state[1]
        tc = self._work("tc", (steps if training else 1, n, self.units), training)
        return {**super()._buffers(n, steps, training, state), "c": c, "tc": tc}

    def _step(self, a, state, t):
        (h_prev, c_prev), u, s = state, self.units, self._s
        np.add(a, np.matmul(h_prev, self.params["U"], out=s["p"]), out=a)  # (N, 4u): all gates in one product
        _sigmoid(a[:, :2 * u], out=a[:, :2 * u])  # i, f
        np.tanh(a[:, 2 * u:3 * u], out=a[:, 2 * u:3 * u])  # g (Keras's "c")
        _sigmoid(a[:, 3 * u:], out=a[:, 3 * u:])  # o
        i, f, g, o = a[:, :u], a[:, u:2 * u], a[:, 2 * u:3 * u], a[:, 3 * u:]
        c, tc, h = _at(s["c"], t + 1), _at(s["tc"], t), _at(s["h"], t + 1)
        np.multiply(f, c_prev, out=c)
        np.add(c, np.multiply(i, g, out=tc), out=c)  # c_t = f * c_{t-1} + i * g
        np.tanh(c, out=tc)
        np.multiply(o, tc, out=h)
        return h, c

    def _prepare_back(self, n):
        s, u = self._s, self.units
        gates, tc = s["a"], s["tc"]
        g = gates[..., 2 * u:3 * u]
        om = np.subtract(1, gates, out=self._work("om", gates.shape))  # 1 - sigmoid for i, f, o (c slot unused)
        kc = np.multiply(tc, tc, out=self._work("kc", tc.shape))
        kg = np.multiply(g, g, out=self._work("kg", tc.shape))
        self._b = {"om": om, "kc": np.subtract(1, kc, out=kc), "kg": np.subtract(1, kg, out=kg),
                   "q": self._work("q", (n, 4 * u)), "tmp": self._work("tmpb", (n, u))}

    def _step_back(self, ds, t, dax, drec):
        (dh, dc), u, s, b = ds, self.units, self._s, self._b
        gates = s["a"][t]
        i, f, g, o = gates[:, :u], gates[:, u:2 * u], gates[:, 2 * u:3 * u], gates[:, 3 * u:]
        q, tmp = b["q"], b["tmp"]
        np.multiply(dh, o, out=tmp)
        tmp *= b["kc"][t]
        dc += tmp  # dc + dh * o * (1 - tanh(c_t)^2)
        np.multiply(dc, g, out=q[:, :u])
        np.multiply(dc, s["c"][t], out=q[:, u:2 * u])
        np.multiply(dc, i, out=q[:, 2 * u:3 * u])
        np.multiply(dh, s["tc"][t], out=q[:, 3 * u:])
        np.multiply(q, gates, out=dax)
        dax *= b["om"][t]
        np.multiply(q[:, 2 * u:3 * u], b["kg"][t], out=dax[:, 2 * u:3 * u])
        np.matmul(dax, self.params["U"].T, out=dh)
        dc *= f


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
    dh_{t-1} = dh z + (the recurrent pre-activation gradients) U^T. The forward keeps ``1 - z`` and
    ``m`` (``r * h_{t-1}`` before) of every step; ``h_{t-1} - hh``, ``1 - hh^2`` and ``1 - r``
    are computed for all steps before the backward loop, and the z and r slots are multiplied by
    the gates and by ``1 - gates`` together.

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
        self._separate_rec = self.reset_after  # the recurrent h slot gets da_h r, the input one da_h
        super().__init__(input_size, units, **kw)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        return self.params["b"][0] if self.reset_after else self.params["b"]

    def _buffers(self, n, steps, training, state):
        kept, u = steps if training else 1, self.units
        # om: 1 - z of every step, written by the forward, and 1 - r, by the backward
        out = {"om": self._work("om", (kept, n, 2 * u), training), "tmp": self._work("tmp", (n, u), training)}
        if self.reset_after:  # m = h_{t-1} U + b[1] of every step; m_h is its last u columns
            return {**out, "m": self._work("m", (kept, n, 3 * u), training)}
        return {**out, "mh": self._work("mh", (kept, n, u), training), "p": self._work("p", (n, 2 * u), training)}

    def _step(self, a, state, t):
        (h_prev,), u, U, s = state, self.units, self.params["U"], self._s
        zr, ah = a[:, :2 * u], a[:, 2 * u:]
        omz, tmp = _at(s["om"], t)[:, :u], s["tmp"]
        if self.reset_after:
            m = np.matmul(h_prev, U, out=_at(s["m"], t))
            m += self.params["b"][1]  # (N, 3u): all gates in one product
            np.add(zr, m[:, :2 * u], out=zr)
            _sigmoid(zr, out=zr)
            np.add(ah, np.multiply(zr[:, u:], m[:, 2 * u:], out=tmp), out=ah)
        else:
            np.add(zr, np.matmul(h_prev, U[:, :2 * u], out=s["p"]), out=zr)
            _sigmoid(zr, out=zr)
            mh = np.multiply(zr[:, u:], h_prev, out=_at(s["mh"], t))  # r * h_{t-1}, the candidate product's input
            np.add(ah, np.matmul(mh, U[:, 2 * u:], out=tmp), out=ah)
        np.tanh(ah, out=ah)  # hh
        z, h = zr[:, :u], _at(s["h"], t + 1)
        np.multiply(z, h_prev, out=h)
        np.add(h, np.multiply(np.subtract(1, z, out=omz), ah, out=tmp), out=h)  # z h_{t-1} + (1 - z) hh
        return (h,)

    def _prepare_back(self, n):
        s, u = self._s, self.units
        gates = s["a"]
        hh = gates[..., 2 * u:]
        np.subtract(1, gates[..., u:2 * u], out=s["om"][..., u:])  # 1 - r next to the forward's 1 - z
        kh = np.multiply(hh, hh, out=self._work("kh", hh.shape))
        self._b = {"kh": np.subtract(1, kh, out=kh), "dz": np.subtract(s["h"][:-1], hh, out=self._work("dz", hh.shape)),
                   "tmp": self._work("tmpb", (n, u)), "p": self._work("pb", (n, u))}

    def _step_back(self, ds, t, dax, drec):
        (dh,), u, U, s, b = ds, self.units, self.params["U"], self._s, self._b
        gates = s["a"][t]
        z, r = gates[:, :u], gates[:, u:2 * u]
        dah = dax[:, 2 * u:]
        np.multiply(dh, s["om"][t][:, :u], out=dah)
        dah *= b["kh"][t]  # dh (1 - z) (1 - hh^2)
        np.multiply(dh, b["dz"][t], out=dax[:, :u])  # dh (h_{t-1} - hh)
        if self.reset_after:
            np.multiply(dah, s["m"][t][:, 2 * u:], out=dax[:, u:2 * u])
            dax[:, :2 * u] *= gates[:, :2 * u]
            dax[:, :2 * u] *= s["om"][t]
            drec[:, :2 * u] = dax[:, :2 * u]
            np.multiply(dah, r, out=drec[:, 2 * u:])
            np.multiply(dh, z, out=dh)
            dh += np.matmul(drec, U.T, out=b["p"])
            return
        h_prev = s["h"][t]
        drh = np.matmul(dah, U[:, 2 * u:].T, out=b["p"])
        np.multiply(drh, h_prev, out=dax[:, u:2 * u])
        dax[:, :2 * u] *= gates[:, :2 * u]
        dax[:, :2 * u] *= s["om"][t]
        np.multiply(dh, z, out=dh)  # dh_{t-1} = dh z + drh r + da_zr U_zr^T
        dh += np.multiply(drh, r, out=b["tmp"])
        dh += np.matmul(dax[:, :2 * u], U[:, :2 * u].T, out=b["tmp"])

    def _grad_U(self, drec):
        if self.reset_after:
            return super()._grad_U(drec)
        u = self.units
        hprev = self._s["h"][:-1].reshape(-1, u)  # (T*N, u)
        rh = self._s["mh"].reshape(-1, u)  # r * h_{t-1}, (T*N, u)
        d = drec.reshape(-1, 3 * u)
        return np.concatenate([hprev.T @ d[:, :2 * u], rh.T @ d[:, 2 * u:]], axis=1)

    def _grad_b(self, dax, drec):
        if self.reset_after:
            return np.stack([dax.sum(axis=(0, 1)), drec.sum(axis=(0, 1))])
        return dax.sum(axis=(0, 1))

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", reset_after={self.reset_after})"
