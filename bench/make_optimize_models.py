#!/usr/bin/python3
"""Writes the benchmark models of `npm run bench -- optimize` into bench/.data/ (not committed):
the mid MLP (1024 -> 4096 -> 1024, ReLU) and a transformer encoder layer at BERT-small width
(d_model 512, 8 heads, feed-forward 2048), both exported by torch 1.13 at opset 13 with a dynamic
batch (and sequence) dimension.

Run: /usr/bin/python3 bench/make_optimize_models.py OUT_DIR
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "make"))
from optimize_models import EncoderLayer  # noqa: E402

torch.manual_seed(0)
out = sys.argv[1]
os.makedirs(out, exist_ok=True)

mlp = torch.nn.Sequential(torch.nn.Linear(1024, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 1024)).eval()
torch.onnx.export(mlp, (torch.randn(2, 1024),), os.path.join(out, "mid_mlp.onnx"), input_names=["x"],
                  output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13)

enc = EncoderLayer(d=512, heads=8, ff=2048).eval()
torch.onnx.export(enc, (torch.randn(2, 16, 512),), os.path.join(out, "transformer_512.onnx"), input_names=["x"],
                  output_names=["y"], dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}},
                  opset_version=13)
print("wrote", out)
