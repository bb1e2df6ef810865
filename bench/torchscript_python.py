#!/usr/bin/python3
"""The ceiling for bench/suites/torchscript.ts: Debian's python3-torch running the same TorchScript
archive in process (torch.jit.load, eval, inference_mode), same thread count, same batches.

Usage: torchscript_python.py MODEL.pt THREADS ITERS:BATCH... -> prints JSON {batch: seconds per forward}
(median of 3 timed runs of ITERS forwards each, after warmup). Makes MODEL.pt (a traced MLP
1024 -> 4096 -> 1024) and MODEL.pt.x / .y (a fixed batch-128 input and torch's output, raw
little-endian f32) if MODEL.pt does not exist.
"""
import json
import os
import sys
import time

import torch

path, threads = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(threads)
if not os.path.exists(path):
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(1024, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 1024)).eval()
    x = torch.randn(128, 1024)
    traced = torch.jit.trace(mlp, x)
    traced.save(path)
    with torch.inference_mode():
        y = torch.jit.load(path).eval()(x)
    open(path + ".x", "wb").write(x.numpy().tobytes())
    open(path + ".y", "wb").write(y.numpy().tobytes())

model = torch.jit.load(path).eval()
result = {}
with torch.inference_mode():
    for spec in sys.argv[3:]:
        iters, batch = (int(v) for v in spec.split(":"))
        x = torch.randn(batch, 1024)
        for _ in range(5):
            model(x)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(iters):
                model(x)
            times.append((time.perf_counter() - start) / iters)
        result[batch] = sorted(times)[1]
print(json.dumps(result))
