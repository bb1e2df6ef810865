#!/usr/bin/python3
"""The model for `npm run bench -- torchscript` (torchscript-serve), by Debian's python3-torch 1.13.

    /usr/bin/python3 bench/make/torchscript_serve_mlp.py OUT_DIR

One MLP (1024->4096->1024, fp32, ~32 MiB of weights) written twice with the same weights:
OUT_DIR/mid_torchscript/1/model.pt (torch.jit.trace) and OUT_DIR/mid_onnx/1/model.onnx
(torch.onnx.export, opset 13), both with a dynamic batch dimension, input x, output y. Also writes
OUT_DIR/x.bin and OUT_DIR/y.bin (a batch of 4 rows and torch's answer) so the suite can check that
both servers answer what torch does before timing them.
"""
import os
import sys

import torch

out = sys.argv[1]
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(1024, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 1024)).eval()
example = torch.randn(4, 1024)
with torch.no_grad():
    y = model(example)
ts_dir = os.path.join(out, "mid_torchscript", "1")
onnx_dir = os.path.join(out, "mid_onnx", "1")
os.makedirs(ts_dir, exist_ok=True)
os.makedirs(onnx_dir, exist_ok=True)
torch.jit.trace(model, example).save(os.path.join(ts_dir, "model.pt"))
torch.onnx.export(model, (example,), os.path.join(onnx_dir, "model.onnx"), input_names=["x"], output_names=["y"],
                  dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13)
example.numpy().astype("<f4").tofile(os.path.join(out, "x.bin"))
y.numpy().astype("<f4").tofile(os.path.join(out, "y.bin"))
print("wrote", out)
