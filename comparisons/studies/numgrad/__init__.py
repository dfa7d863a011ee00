"""Numerical gradients: ``check`` (gradient_check and the commands), ``train`` (training with
numerical gradients) and ``study`` (precision and speed of the textbook's TwoLayerNet)."""
