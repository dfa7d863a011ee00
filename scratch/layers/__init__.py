"""Scratch layers: NumPy only, NCHW images, forward(x, *, training) / backward(dy)."""

from scratch.layers.activations import ReLU, Sigmoid, Softmax, Tanh
from scratch.layers.attention import MultiHeadAttention
from scratch.layers.base import Layer
from scratch.layers.conv import Conv2D
from scratch.layers.dense import Dense
from scratch.layers.dropout import Dropout
from scratch.layers.gated import GRU, LSTM
from scratch.layers.normalization import BatchNorm
from scratch.layers.pooling import AvgPool2D, MaxPool2D
from scratch.layers.recurrent import SimpleRNN
from scratch.layers.reshape import Flatten

__all__ = [
    "AvgPool2D", "BatchNorm", "Conv2D", "Dense", "Dropout", "Flatten", "GRU", "LSTM", "Layer", "MaxPool2D",
    "MultiHeadAttention", "ReLU", "Sigmoid", "SimpleRNN", "Softmax", "Tanh",
]
