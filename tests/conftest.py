"""Shared test configuration: Keras on the TensorFlow backend, quiet TensorFlow logs."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
