"""Max and average pooling, one strided view per window offset (no im2col copy, no window copy)."""

from __future__ import annotations

import numpy as np

from scratch._checks import check_pair
from scratch.layers import im2col as ic
from scratch.layers.base import Layer


class _Pool2D(Layer):
    """Shared window arithmetic for NCHW pooling.

    The windows are never materialised: for each of the KH*KW offsets (i, j) inside a window,
    ``xp[:, :, i::SH, j::SW]`` (cropped to OH x OW) is a strided view holding that cell of every
    window, and the pooling is a running reduction over those KH*KW views. The backward pass
    writes each offset's share into the same view of dx: a plain assignment when windows do not
    overlap (stride >= pool size, the usual 2 x 2 / 2 case), an add otherwise.

    Args:
        pool_size: k or (KH, KW).
        stride: s or (SH, SW); ``None`` means ``pool_size`` (Keras and PyTorch; the textbook's
            ``Pooling(pool_h, pool_w, stride=2, pad=0)`` defaults to 2).
        padding: int, (ph, pw) (at most half the pool size, PyTorch's rule: every window then
            holds a real cell), ``"valid"`` or ``"same"`` (Keras rule).
        truncate: allow an output size that does not divide exactly (default False raises).
        dtype: ``"float32"`` or ``"float64"``.
    """

    _pad_value = 0.0

    def __init__(self, pool_size, *, stride=None, padding=0, truncate=False, dtype="float64") -> None:
        super().__init__(dtype=dtype)
        self.pool_size = check_pair(pool_size, "pool_size")
        self.stride = self.pool_size if stride is None else check_pair(stride, "stride")
        ic.resolve_padding(padding, (1, 1), (1, 1), (1, 1))  # validate the argument now
        if not isinstance(padding, str):
            (ph, pw), (kh, kw) = check_pair(padding, "padding", minimum=0), self.pool_size
            if ph > kh // 2 or pw > kw // 2:
                raise ValueError(
                    f"padding: expected at most half the pool size ({kh // 2}, {kw // 2}) for pool_size "
                    f"{self.pool_size}, got {padding!r}; a larger padding makes windows of padding alone "
                    "(-inf for max, 0/0 for an average), which PyTorch refuses too"
                )
        self.padding = padding
        self.truncate = bool(truncate)

    def pads_for(self, in_hw: tuple[int, int]) -> ic.Pads:
        """(top, bottom, left, right) padding used for an input of spatial size ``in_hw``."""
        return ic.resolve_padding(self.padding, in_hw, self.pool_size, self.stride)

    def _offsets(self, x: np.ndarray) -> list[np.ndarray]:
        """Check and pad ``x``; return the KH*KW views (N, C, OH, OW), offsets in row-major order."""
        self._check_input(x, ndim=4)
        h, w = x.shape[2:]
        pads = self.pads_for((h, w))
        oh, ow = ic.output_size((h, w), self.pool_size, self.stride, pads, truncate=self.truncate,
                                kernel_name="pool_size")
        xp = ic.pad(x, pads, value=self._pad_value)
        self._geom = (xp.shape, pads, (oh, ow))
        (kh, kw), (sh, sw) = self.pool_size, self.stride
        return [xp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] for i in range(kh) for j in range(kw)]

    def _scatter(self, share: np.ndarray, masks) -> np.ndarray:
        """dx = unpad(sum over offsets k of share * masks[k] placed at offset k).

        ``masks`` yields one (N, C, OH, OW) boolean mask per offset, or None for "all of it".
        Without overlap each product is written straight into its view of dx (no temporary).
        """
        padded_shape, pads, (oh, ow) = self._geom
        (kh, kw), (sh, sw) = self.pool_size, self.stride
        overlap = sh < kh or sw < kw
        # windows that tile the input exactly write every cell once: no zero fill needed
        tiled = (sh, sw) == (kh, kw) and padded_shape[2:] == (oh * kh, ow * kw)
        dxp = np.empty(padded_shape, dtype=self.dtype) if tiled else np.zeros(padded_shape, dtype=self.dtype)
        for k, mask in enumerate(masks):
            i, j = divmod(k, kw)
            dst = dxp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]  # (N, C, OH, OW) view
            if overlap:
                dst += share if mask is None else share * mask
            elif mask is None:
                dst[...] = share
            else:
                np.multiply(share, mask, out=dst)
        return dxp if not any(pads) else np.ascontiguousarray(ic.unpad(dxp, pads))


def _tournament(views: list[np.ndarray]) -> tuple[np.ndarray, tuple | None]:
    """Maximum of ``views`` by a knockout bracket, keeping who won each match.

    The first half of the offsets plays the second half; ``right = y_right > y_left`` (strict, so
    a tie goes to the earlier offsets), recursively. Returns (y, tree) with tree =
    (right, left tree, right tree, size of the left half), or None for a single view. y may be
    ``views[0]`` itself (one view): the caller copies it before handing it out.
    """
    if len(views) == 1:
        return views[0], None
    mid = len(views) // 2
    y_left, t_left = _tournament(views[:mid])
    y_right, t_right = _tournament(views[mid:])
    if y_left is views[0]:  # a view of the input: compare against the (contiguous) result instead
        y = np.maximum(y_left, y_right)
        right = y > y_left  # same as y_right > y_left, reading one strided operand instead of two
    else:  # our own temporary: overwrite it
        right = y_right > y_left
        y = np.maximum(y_left, y_right, out=y_left)
    return y, (right, t_left, t_right, mid)


def _winners(tree: tuple | None, count: int, mask: np.ndarray | None):
    """Yield, offset by offset, the mask of windows whose first maximum is at that offset."""
    if count == 1:
        yield mask
        return
    right, t_left, t_right, mid = tree
    go_left = ~right if mask is None else np.greater(mask, right)  # mask and not right
    go_right = right if mask is None else mask & right
    yield from _winners(t_left, mid, go_left)
    yield from _winners(t_right, count - mid, go_right)


class MaxPool2D(_Pool2D):
    """y = max over each window; the gradient goes to the first maximum in row-major window order
    (ties broken like ``np.argmax``, Keras/TF and PyTorch on CPU). Padding cells are -inf, so they
    never win: Keras ``"same"`` and PyTorch's implicit padding behave the same way.

    Forward: a knockout bracket over the KH*KW offset views (``_tournament``): the first half of
    the offsets against the second half with a strict ``>``, recursively, so every tie goes to
    the earlier offset and the winner is ``argmax``'s first maximum. A training forward keeps
    the KH*KW - 1 boolean match results; backward turns them into one mask per offset and writes
    dy * mask into that offset's view of dx. No window is copied and no index array is built.
    An evaluation forward keeps only the views (references to the input) and replays the bracket
    if a backward follows.
    """

    per_sample = True
    per_channel = True

    _pad_value = -np.inf
    _keeps = ("input",)  # the offset views read x (an evaluation forward replays the bracket)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        views = self._offsets(x)
        if training:
            y, self._tree = _tournament(views)
        else:
            y, self._tree = views[0], None
            for v in views[1:]:
                y = np.maximum(y, v, out=None if y is views[0] else y)
        if y is views[0]:
            y = y.copy()
        self._views = views
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        if not need_dx:
            return None
        views = self._views
        if self._tree is None and len(views) > 1:  # after an evaluation forward
            _, self._tree = _tournament(views)
        masks = _winners(self._tree, len(views), None)
        return self._scatter(dy, masks)


class AvgPool2D(_Pool2D):
    """y = mean over each window.

    Args:
        count_include_pad: divide by the full window size even where it overlaps padding
            (PyTorch ``AvgPool2d`` default True); False divides by the number of real cells
            (Keras ``"same"``). Default False. Other arguments as ``_Pool2D``.
    """

    per_sample = True
    per_channel = True

    def __init__(self, pool_size, *, stride=None, padding=0, truncate=False, count_include_pad=False,
                 dtype="float64") -> None:
        super().__init__(pool_size, stride=stride, padding=padding, truncate=truncate, dtype=dtype)
        self.count_include_pad = bool(count_include_pad)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        views = self._offsets(x)
        kh, kw = self.pool_size
        padded_shape, pads, out_hw = self._geom
        if self.count_include_pad or not any(pads):
            count = np.asarray(kh * kw, dtype=self.dtype)
        else:  # number of real (unpadded) cells in each window: (OH, OW)
            ones = ic.pad(np.ones((1, 1) + x.shape[2:], dtype=self.dtype), pads)
            count = ic.windows(ones, self.pool_size, self.stride, out_hw).sum(axis=(-2, -1))[0, 0]
        self._count = count
        total = views[0].copy()
        for v in views[1:]:
            total += v
        y = np.divide(total, count, out=total)
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        if not need_dx:
            return None
        return self._scatter(dy / self._count, [None] * (self.pool_size[0] * self.pool_size[1]))
