"""Test configuration: float64 everywhere, seeded randomness; shared helpers live in support.py
(importable as ``support`` from every test folder: this directory is put on sys.path)."""

import os
import sys

import numpy as np
import pytest
import torch

torch.set_default_dtype(torch.float64)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(12345)
