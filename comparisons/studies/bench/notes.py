"""The prose of the benchmark report (kept apart from the code that computes the tables)."""

from __future__ import annotations

RESULTS = """\
Seconds per training epoch (60,000 images at the recipe's batch size) as median [min, max] over
the repeats; `*` marks an epoch extrapolated from the timed iterations (`iterations timed` x
`steps per epoch` in the CSV). `eval 10k` is the time to classify the 10,000 test images in
batches of 1,000. Ratios divide by PyTorch in the same run, same dtype (Keras rows by PyTorch
float32). Peak RSS is the whole worker process (interpreter, libraries, the MNIST arrays, the
model, training and evaluation): each implementation runs in a process of its own. `train GFLOP/s`
counts the matrix products only (see Method). `other load` is the share of all CPUs that other
processes used in the 0.2 s just before each timed training run (median and max over the runs):
with 2 threads on 2 cores, a busy core stalls every parallel region of the run that needs it, so
a run timed under load can be many times slower (see Method)."""

TARGETS = """\
Epoch and evaluation time of scratch in float32 against the fastest framework of the same run
(PyTorch loop, Keras fit or Keras loop, same batch size): at most 1.0x on every model; the convnet's
matrix products at 60% of the machine's float32 ceiling or better (`roofline`: train GFLOP/s over
the best GFLOP/s of the BLAS ceiling below); and the convnet's peak memory at most PyTorch's.
The thread count matters for the convnet: NumPy runs its element-wise work (ReLU, pooling, the
im2col copy) on one core, so scratch's Conv2D and MaxPool2D split their batch over threads of their
own (`scratch.parallel`, the same bits for any thread count), while PyTorch and TensorFlow spread
every kernel over their pools; `--threads 1` compares all of them on one core.
`measured` is the median time over the fastest peer's median time; `per round [min, max]` divides
each round's time by the peer's time in the same round (the implementations of a model are timed
one after the other in every round), so the machine's drift between rounds cancels: where that
range straddles the target, another run can give the other verdict."""

BEFORE_AFTER = """\
The previous committed benchmark (`reports/benchmarks-before.csv` and its profile, the code of the
first performance round: im2col per image, pooling on strided views, the ReLU -> MaxPool2D swap)
against this run. The seconds come from different runs, on a machine whose speed drifts (a shared
virtual machine: the same code can take twice as long an hour later); the `/ torch` columns are
each relative to PyTorch in their own run, and `speed-up vs torch` is their quotient: the gain with
the machine's state divided out. What changed since, each with the same bits as before:

- **Batch threads** (`scratch.parallel`). NumPy's element-wise loops run on one core; Conv2D (the
  im2col copy and the per-image products) and MaxPool2D / AvgPool2D now split the batch over a
  pool of threads (NumPy releases the GIL in its loops and BLAS calls), each thread writing its own
  samples of outputs allocated once, the sums over the batch left in one thread. Alone on 2 cores,
  per batch of 100: convolution forward 3.1 -> 2.0 ms, max-pool forward 3.0 -> 1.2-1.7 ms and
  backward 2.3 -> 1.3 ms. Within a training step OpenBLAS's idle threads, spinning for 2^28 cycles
  after each product, hold the second core (a convolution after a Dense product: 3.6 ms with two
  batch threads, 2.2 ms with `OPENBLAS_THREAD_TIMEOUT=4`); the Machine section gives the trade-off.
- **Optimizer step.** The optimizer classes call the update kernels directly (their arguments
  were checked once in `__init__`, not again for every parameter at every step), with one `errstate`
  per step: the step of mlp4x128_bn_dropout (18 arrays) about 30% shorter.
- **Evaluation.** `Sequential.infer` runs the evaluation forward without the two fingerprint passes
  (input and output) that guard a backward, which no evaluation runs; an evaluation Conv2D builds
  its im2col matrix 1 MiB at a time per thread instead of 60 MB for 1,000 images. Sigmoid takes
  the recurrent layers' in-place form (`np.where` cost 2.5 times as much on 1,000 x 50), BatchNorm's
  evaluation forward makes two temporaries instead of four, inverted Dropout's copies its input
  instead of multiplying it by 1, and a large input is checked for NaN and infinities by one
  product with a vector of zeros (half the time of `np.isfinite` on a batch of 1,000 images)."""

LIMITS = """\
What keeps the targets that are not met out of reach with NumPy on this machine (measured apart
from the run, scratch float32, both cores, nothing else running):

- **Recurrent layers.** One LSTM evaluation forward of 1,000 images (28 steps) takes 47 ms: the
  sigmoid gates 16 ms, tanh 10.5 ms, the recurrent products 7.3 ms, the other element-wise steps
  4.4 ms, the input projection and copies the rest; PyTorch evaluates 1,000 images in about 19 ms.
  NumPy's float32 `exp` and `tanh` are not the difference: 1.5 and 2.6 ns per value on one core
  (196 and 329 us for 128,000 values), against PyTorch's 129 and 414 us on one thread. PyTorch
  runs the gate arithmetic as one fused kernel on both cores; NumPy runs each of about a dozen
  passes per step on one. Splitting the batch in two halves, each run through all 28 steps by its
  own thread, shows what stands in the way (LSTM layer, per 1,000 images in evaluation, per batch
  of 100 in training):
  - with OpenBLAS's two threads (as in this run): evaluation 46 ms whole, 44-47 ms split;
    training 8.8-10.4 ms whole, 11.0-13.2 ms split. After every threaded product OpenBLAS's idle
    worker spins on the second core (see Machine), where the second half runs;
  - with `OPENBLAS_NUM_THREADS=1`: evaluation 50 ms whole, 27.5 ms split, 1.8 times faster; but
    training still gains nothing (10.2 ms whole, 11.9 ms split and 12.0 ms with the halves one
    after the other): at 50 samples a step is a few hundred short NumPy calls whose dispatch holds
    Python's GIL, so the two threads take turns instead of overlapping;
  - with `OPENBLAS_THREAD_TIMEOUT=4`: 94-153 ms, as the two threads wake OpenBLAS's pool in turn.

  A split of the products would also move the float32 rounding: in OpenBLAS's float32 kernel a
  product of 500 rows differs from the same rows of the 1,000-row product at every split point
  tried (multiples of 8 and 16 included), so the results would depend on the thread count.
- **Roofline.** The convolution's and the Dense layers' products alone reach 29% of the float32
  ceiling even with every element-wise layer at zero cost (Layer by layer); 60% would need a
  convolution that skips the im2col matrix and fuses the element-wise work, which NumPy cannot express.
- **Intel.** Only this AMD EPYC machine was available: the ratios on an Intel processor (which
  ranks the frameworks differently) are not measured here."""

BEFORE_PROFILE = """\
The same profile of the previous code (from the run of the Before and after table)."""

CEILING = """\
GFLOP/s of one large product (2,048 x 2,048 by 2,048 x 2,048, best of 5) with the same thread
count: what the BLAS can reach on this machine. NumPy is measured twice: as configured, and with
the OpenBLAS kernel variable flipped (on some processors OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
are set in the environment to work around old OpenBLAS bugs; they make a current NumPy pick a
slower kernel). The models' matrices are small (batches of 32 to 100), so they reach a fraction
of this ceiling."""

MACHINE = """\
Collected inside the workers. Thread counts are set explicitly: the environment variables of
every worker, plus `torch.set_num_threads` / `set_num_interop_threads` and TensorFlow's intra-op
and inter-op pools, and `DLPARITY_THREADS` for scratch's batch threads. NumPy itself is
single-threaded; its BLAS and scratch's Conv2D, MaxPool2D and large ReLUs use the threads.
`OPENBLAS_THREAD_TIMEOUT` is left as the environment gives it. It trades one model against
another: OpenBLAS's worker threads spin for 2^28 cycles after every threaded product, holding the
core that scratch's batch threads need next; `OPENBLAS_THREAD_TIMEOUT=4` lets them sleep at once but
makes every product wake them. Measured on this machine, scratch float32, ms per training step,
default -> 4: simple_convnet 14.2 -> 10.3, row_lstm 10.6 -> 15.3, mlp4x128_bn_dropout 1.4 -> 2.1,
twolayer 0.54 -> 0.66 (a run of the whole benchmark with 4 put the convnet at 0.67 of PyTorch and
row_lstm at 2.3). Set it for convolutional models; it does not touch PyTorch (MKL and OpenMP) or
TensorFlow."""

METHOD_TEMPLATE = """\
- Each (model, implementation, dtype) runs in its own worker process, started and warmed up (10
  training steps and one evaluation, which also traces the Keras functions) before any timing.
  The driver then alternates: every round times `iterations` training steps on each worker in
  turn, the order rotated from round to round, with a 0.2 s pause between workers; evaluation
  rounds follow the same pattern. Machine drift (other load, frequency changes) thus falls on all
  implementations alike, and the ratios compare runs made minutes apart at most.
- Before each timed run the driver waits (up to `--max-wait` seconds, here {max_wait:g} s) for a
  moment when other processes use less than 15% of the CPUs, and records what they used. The
  medians and the ratios are robust to a few slow runs; the max column shows them.
- Same model, same start: the frameworks get the scratch model's initial weights
  (`reference.model_twin`); Keras runs channels-last as Keras users do (the input converted once).
- Optimizer: plain SGD for every implementation (`p -= lr * g` in scratch, `torch.optim.SGD`,
  `keras.optimizers.SGD` with every argument explicit), at the recipe's learning rate for the SGD
  recipes and 0.01 for the others (the Adam and AdaGrad recipes): the benchmark times the
  models, not the optimizers. Loss: softmax cross-entropy on logits.
- Dropout (mlp4x128_bn_dropout): each framework's own `Dropout` layer, drawing its own masks, as
  scratch's does (the parity runs inject one mask into all three instead).
- Keras fit: one `model.fit` call per timed run over the batches of that run; its per-call
  set-up (data adapter, callbacks) is included and scaled with the epoch. Keras loop: a
  `tf.function` step with `GradientTape` and `optimizer.apply`. Evaluation: `model.predict` and a
  `tf.function` forward, batches of 1,000.
- The frameworks run with their default (non-deterministic) kernels: the determinism switches the
  parity suite turns on are turned off in the benchmark workers.
- scratch trains through `Sequential.backward(dy, need_dx=False)`: the input gradient of the data
  is not computed (nothing reads it), as PyTorch and TensorFlow skip it for a tensor that needs
  no gradient. The FLOP counts follow the same rule: forward, weight-gradient and input-gradient
  products of every Dense and Conv2D layer (2 m k n each), minus the first layer's input gradient.
- `python -m comparisons bench --help` lists the options; `make bench` runs the default set."""


def intro(meta: dict) -> str:
    env = meta["environment"]
    load = meta.get("load", {})
    return (
        f"`python -m comparisons bench` on {meta.get('data', 'MNIST')}, {env.get('cpu', 'an unknown CPU')}, "
        f"{meta['threads']} thread(s), "
        f"{meta['repeats']} repeats of {meta['iterations']} training iterations (at most one epoch) per "
        f"implementation, alternated. Run took {meta['duration_s'] / 60:.1f} min; load average (1 min) "
        f"{load.get('start', float('nan')):.2f} at the start and {load.get('end', float('nan')):.2f} at the end "
        "(a busy machine widens the min-max ranges; the ratios stay comparable because every implementation "
        "shares the same rounds).")


def profile_text(meta: dict) -> str:
    steps = meta.get("profile_iterations", 0)
    return (
        f"cProfile of {steps} training steps of scratch's simple_convnet in float32, in its worker after the "
        "timings (profiling overhead included; figures per step). Own time is spent inside the function itself "
        "(for the layer methods: in the NumPy calls they make). What the layers do now: Conv2D builds one "
        "im2col matrix per image, (N, C*KH*KW + 1, OH*OW) with a row of ones for the bias, and multiplies a "
        "stack of BLAS products whose result is already NCHW; its backward takes [dW | db] from one stacked "
        "product and skips dx for the first layer. MaxPool2D works on the KH*KW strided views of the input "
        "(no window copy) with a knockout bracket whose match results route the gradient to the first "
        "maximum, and its backward writes each offset's share straight into its view of dx. ReLU is `np.maximum` "
        "and a boolean mask product (no `np.where`), and Sequential runs each ReLU -> MaxPool2D pair as MaxPool2D "
        "-> ReLU (the same bits: ReLU is monotone and rounds nothing, and the gradient reaches the same first "
        "maximum or nothing), so ReLU touches a quarter of the elements. Sequential checks its input once for "
        "non-finite values instead of every layer re-scanning every activation. Conv2D and MaxPool2D split "
        "the batch over `scratch.parallel`'s threads (each writes its own samples; the batch sums stay in "
        "one thread), so their time here is wall time on both cores.")


def method(meta: dict) -> str:
    return METHOD_TEMPLATE.format(max_wait=meta.get("max_wait", 0.0))


def layers_text(bound: dict | None) -> str:
    """The layer-by-layer section: what the table is, and the roofline the matrix products allow."""
    text = (
        "One training step of scratch's simple_convnet timed layer by layer in its worker (best of the "
        "repeats, each the mean of 20 steps on the first batch; layers in the order the step runs them, "
        "the optimizer and the model-level checks left out). `product GFLOP` counts each layer's matrix "
        "products as the roofline column does; the other layers do element-wise work only (`-`).")
    if not bound:
        return text
    if bound["bound"] == bound["bound"]:
        ceiling = (f"{100 * bound['bound']:.0f}% of the float32 ceiling: the most the step could reach if "
                   "ReLU, pooling and the loss took no time at all")
    else:
        ceiling = "no ceiling was measured in this run"
    step = bound["product ms"] + bound["other ms"]
    return text + (
        f" The layers with products take {bound['product ms']:.2f} ms of the {step:.2f} ms and run their "
        f"products at {bound['product GFLOP/s']:.0f} GFLOP/s, {ceiling}. These products are small "
        "and narrow: the convolution's are one (30 x 26) by (26 x 576) product per image, whose inner "
        "dimension of 26 (a 5 x 5 kernel on one channel, and the bias) leaves BLAS little to reuse per "
        "value loaded; the Dense layers multiply by a batch of 100. NumPy cannot fuse the element-wise "
        "layers into the products, and its ufuncs run on one core: scratch's Conv2D and MaxPool2D split "
        "their batch over threads of their own, the rest runs in one thread. So the products' own rate "
        "bounds what scratch can reach here. The frameworks run the convolution in oneDNN kernels that need "
        "no im2col matrix, and spread every kernel, element-wise ones included, over their threads.")
