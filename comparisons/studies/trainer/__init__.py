"""The one trainer every study uses: scratch, Keras and PyTorch behind one interface.

* ``impls``: ``ScratchImpl``, ``KerasImpl``, ``TorchImpl`` (one training step, evaluation,
  parameters in scratch names) and the drivers that apply each framework's optimizer;
* ``lockstep``: the loop that feeds all of them the same batches, dropout masks and learning rates
  and records step losses and epoch figures.

The MNIST runs and the naive port run the whole loop; the small tasks run the implementations on
their own data; the benchmark times the scratch and PyTorch steps (and Keras's own ``fit`` and
guide loop, the idioms a Keras user runs).
"""
