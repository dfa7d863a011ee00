"""The run matrix: many MNIST lock-step runs (model x dtype x seed) as tasks on Dask distributed.

``spec`` (cells, seed lists, named studies), ``cell`` (what a worker runs), ``engine`` (the cluster,
the submission, progress), ``disk`` (the state of each cell and the summaries, read from disk),
``cli`` (``python -m comparisons matrix``), ``scaling`` (the same matrix on 1 and 2 local workers).
"""
