#!/usr/bin/python3
"""The python side of the formats-onnx benchmark: every initializer of an ONNX model through
onnx.numpy_helper.to_array, written to a safetensors-layout file (8-byte length, JSON header
padded with spaces to 8 bytes, tensors back to back in graph order). Prints its in-process seconds.

Usage: /usr/bin/python3 bench/extract_onnx_python.py MODEL.onnx OUT
"""
import json
import struct
import sys
import time

start = time.perf_counter()
import onnx  # noqa: E402  (import time is part of what a user waits for)
from onnx import numpy_helper  # noqa: E402

DTYPES = {"float32": "F32", "float16": "F16", "float64": "F64", "int64": "I64", "int32": "I32",
          "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def main(model_path, out_path):
    model = onnx.load(model_path)
    arrays = [(t.name, numpy_helper.to_array(t)) for t in model.graph.initializer]
    header, offset = {}, 0
    for name, arr in arrays:
        header[name] = {"dtype": DTYPES[arr.dtype.name], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(out_path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, arr in arrays:
            # Native order is little-endian here; the buffer protocol writes without another copy.
            f.write(np.ascontiguousarray(arr))
    print(f"{time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    import numpy as np
    main(sys.argv[1], sys.argv[2])
