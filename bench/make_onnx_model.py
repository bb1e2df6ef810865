#!/usr/bin/python3
"""Writes a ~500 MB ONNX model for the formats-onnx benchmark with Debian's python3-onnx.

Usage: /usr/bin/python3 bench/make_onnx_model.py OUT.onnx
76 float32 initializers of 1280 x 1280 (6.5 MB each) in a MatMul chain, stored as raw_data
the way onnx.numpy_helper.from_array stores them.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

COUNT, SIZE = 76, 1280


def main(out):
    rng = np.random.default_rng(0)
    inits, nodes = [], []
    prev = "x"
    for i in range(COUNT):
        inits.append(numpy_helper.from_array(rng.standard_normal((SIZE, SIZE), dtype=np.float32), f"w{i}"))
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"], name=f"matmul{i}"))
        prev = f"h{i}"
    graph = helper.make_graph(
        nodes, "bench500", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", SIZE])],
        [helper.make_tensor_value_info(prev, TensorProto.FLOAT, ["batch", SIZE])], inits)
    model = helper.make_model(graph, producer_name="ferry-bench", opset_imports=[helper.make_opsetid("", 13)])
    onnx.save_model(model, out)


if __name__ == "__main__":
    main(sys.argv[1])
