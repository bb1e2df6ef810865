#!/usr/bin/python3
"""Benchmark models for `npm run bench -- serve`, exported by Debian's python3-torch 1.13.

    /usr/bin/python3 bench/make/serve_mlp.py OUT_DIR

Writes OUT_DIR/small/1/model.onnx (64->256->64) and OUT_DIR/mid/1/model.onnx
(1024->4096->1024, fp32, ~32 MiB), both with a dynamic batch dimension.
"""
import os
import sys

import torch

out = sys.argv[1]
torch.manual_seed(0)
for name, (d_in, hidden) in {"small": (64, 256), "mid": (1024, 4096)}.items():
    model = torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, d_in)).eval()
    folder = os.path.join(out, name, "1")
    os.makedirs(folder, exist_ok=True)
    torch.onnx.export(model, (torch.randn(1, d_in),), os.path.join(folder, "model.onnx"), input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13)
print("wrote", out)
