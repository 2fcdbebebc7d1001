import numpy as np


def tanh_back(h, dh):
    return (1 - h * h) * dh
