"""The variance study: many seeds of float32 MNIST runs, implementations paired by seed (reports/variance/)."""
