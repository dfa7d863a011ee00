"""reference: the scratch components rebuilt in Keras 3 (TensorFlow backend) and in PyTorch.

Each builder takes a scratch object and returns a *twin*: the framework layer or loss with every
hyperparameter passed explicitly and the scratch weights and buffers transferred, behind one small
interface (see ``reference.twin``). Frameworks are imported lazily, on first use.
"""
