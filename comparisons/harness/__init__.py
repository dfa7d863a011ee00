"""The harness: runs the case table's entries and judges them.

``runner`` pairs scratch with a framework twin for layers and losses and collapses the pairs into
result rows; ``optimizers`` runs optimizer trajectories; ``metrics`` is the one error measure;
``stats`` holds the distribution tests of the initializer cases. Data flows one way: table ->
harness -> rows -> reports.
"""
