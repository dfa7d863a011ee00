"""Scratch layers: NumPy only, NCHW images, forward(x, *, training) / backward(dy)."""

from scratch.layers.activations import ReLU, Sigmoid, Softmax, Tanh
from scratch.layers.attention import MultiHeadAttention
from scratch.layers.base import Layer
from scratch.layers.conv import Conv2D
from scratch.layers.conv_transpose import Conv2DTranspose
from scratch.layers.conv_variants import Conv1D, DepthwiseConv2D
from scratch.layers.dense import Dense
from scratch.layers.dropout import Dropout
from scratch.layers.embedding import Embedding
from scratch.layers.gated import GRU, LSTM
from scratch.layers.global_pooling import GlobalAvgPool2D, GlobalMaxPool2D
from scratch.layers.modern_activations import ELU, GELU, HardSigmoid, LeakyReLU, SiLU, Softplus
from scratch.layers.normalization import BatchNorm
from scratch.layers.pooling import AvgPool2D, MaxPool2D
from scratch.layers.recurrent import SimpleRNN
from scratch.layers.reshape import Flatten
from scratch.layers.sample_norm import GroupNorm, LayerNorm

__all__ = [
    "AvgPool2D", "BatchNorm", "Conv1D", "Conv2D", "Conv2DTranspose", "Dense", "DepthwiseConv2D", "Dropout",
    "Flatten", "GlobalAvgPool2D", "GlobalMaxPool2D", "Layer", "MaxPool2D", "ReLU", "Sigmoid", "Softmax", "Tanh",
    "ELU", "Embedding", "GELU", "GroupNorm", "HardSigmoid", "LayerNorm", "LeakyReLU", "SiLU", "Softplus",
    "GRU", "LSTM", "MultiHeadAttention", "SimpleRNN",
]
