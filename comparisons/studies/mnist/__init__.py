"""Full MNIST runs in lock-step: the same model trained in scratch, Keras and PyTorch."""
