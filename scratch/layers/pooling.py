"""Max and average pooling, one strided view per window offset (no im2col copy, no window copy)."""

from __future__ import annotations

import numpy as np

from scratch import parallel
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

    def _scatter(self, share: np.ndarray, masks_for, parts: list[slice]) -> np.ndarray:
        """dx = unpad(sum over offsets k of share * masks[k] placed at offset k).

        ``masks_for(s)`` yields, for the batch slice ``s``, one (n_s, C, OH, OW) boolean mask per
        offset, or None for "all of it"; the slices of ``parts`` run in parallel
        (``scratch.parallel``), each writing its own samples of dx. Without overlap each product is
        written straight into its view of dx (no temporary).
        """
        padded_shape, pads, (oh, ow) = self._geom
        (kh, kw), (sh, sw) = self.pool_size, self.stride
        overlap = sh < kh or sw < kw
        # windows that tile the input exactly write every cell once: no zero fill needed
        tiled = (sh, sw) == (kh, kw) and padded_shape[2:] == (oh * kh, ow * kw)
        dxp = np.empty(padded_shape, dtype=self.dtype) if tiled else np.zeros(padded_shape, dtype=self.dtype)

        def work(s: slice) -> None:
            part = share[s]
            for k, mask in enumerate(masks_for(s)):
                i, j = divmod(k, kw)
                dst = dxp[s, :, i : i + sh * oh : sh, j : j + sw * ow : sw]  # (n_s, C, OH, OW) view
                if overlap:
                    dst += part if mask is None else part * mask
                elif mask is None:
                    dst[...] = part
                else:
                    np.multiply(part, mask, out=dst)

        parallel.run(parts, work)
        return dxp if not any(pads) else np.ascontiguousarray(ic.unpad(dxp, pads))


def _tournament(views: list[np.ndarray], out: np.ndarray | None = None) -> tuple[np.ndarray, tuple | None]:
    """Maximum of ``views`` by a knockout bracket, keeping who won each match.

    The first half of the offsets plays the second half; ``right = y_right > y_left`` (strict, so
    a tie goes to the earlier offsets), recursively. Returns (y, tree) with tree =
    (right, left tree, right tree, size of the left half), or None for a single view. y is written
    into ``out`` when given; otherwise y may be ``views[0]`` itself (one view), which the caller
    copies before handing it out.
    """
    if len(views) == 1:
        if out is None:
            return views[0], None
        out[...] = views[0]
        return out, None
    mid = len(views) // 2
    y_left, t_left = _tournament(views[:mid])
    y_right, t_right = _tournament(views[mid:])
    if y_left is views[0]:  # a view of the input: compare against the (contiguous) result instead
        y = np.maximum(y_left, y_right, out=out)
        right = y > y_left  # same as y_right > y_left, reading one strided operand instead of two
    else:  # our own temporary: overwrite it
        right = y_right > y_left
        y = np.maximum(y_left, y_right, out=y_left if out is None else out)
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
    if a backward follows. The batch is split over ``scratch.parallel``'s threads, each running
    the bracket (and later the scatter) of its own samples: the same bits for any thread count.
    """

    per_sample = True
    per_channel = True

    _pad_value = -np.inf
    _keeps = ("input",)  # the offset views read x (an evaluation forward replays the bracket)

    def _forward(self, x: np.ndarray, *, training: bool) -> np.ndarray:
        views = self._offsets(x)
        y = np.empty(views[0].shape, dtype=self.dtype)
        trees: dict[int, tuple | None] = {}  # bracket of each batch slice, by its first sample

        def work(s: slice) -> None:  # the samples of s, into their rows of y
            part = [v[s] for v in views]
            if training:
                trees[s.start] = _tournament(part, out=y[s])[1]
            elif len(part) == 1:
                y[s] = part[0]
            else:
                np.maximum(part[0], part[1], out=y[s])
                for v in part[2:]:
                    np.maximum(y[s], v, out=y[s])

        self._parts = parallel.for_batch(len(x), x.size, work)
        self._trees = trees if training else None
        self._views = views
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        if not need_dx:
            return None
        views, count = self._views, len(self._views)
        trees = self._trees
        if trees is None:  # after an evaluation forward: replay the brackets (in the slices' threads)
            trees = {s.start: None for s in self._parts}

        def masks_for(s: slice):
            if trees[s.start] is None and count > 1:
                trees[s.start] = _tournament([v[s] for v in views])[1]
            return _winners(trees[s.start], count, None)

        return self._scatter(dy, masks_for, self._parts)


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
        y = np.empty(views[0].shape, dtype=self.dtype)

        def work(s: slice) -> None:  # the samples of s, into their rows of y
            total = y[s]
            total[...] = views[0][s]
            for v in views[1:]:
                total += v[s]
            np.divide(total, count, out=total)

        self._parts = parallel.for_batch(len(x), x.size, work)
        self._out_shape = y.shape
        return y

    def _backward(self, dy: np.ndarray, *, need_dx: bool) -> np.ndarray | None:
        if not need_dx:
            return None
        offsets = self.pool_size[0] * self.pool_size[1]
        return self._scatter(dy / self._count, lambda s: [None] * offsets, self._parts)
