"""Default hyperparameters of the textbook, Keras and PyTorch: ``settings`` (the table) and
``probes`` (small experiments that observe a convention on the installed library)."""
