"""Studies built on the scratch components and their twins: MNIST and small-task lock-step runs,
benchmarks, numerical gradients, the naive port and the framework defaults. ``models`` holds the
model specs they share."""
