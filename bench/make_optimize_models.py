#!/usr/bin/python3
"""Writes the benchmark models of `npm run bench -- optimize` into bench/.data/ (not committed),
all exported by torch 1.13 at opset 13 with a dynamic batch (and sequence) dimension:

- mid_mlp.onnx: the mid MLP (1024 -> 4096 -> 1024, ReLU) with torch's random initial weights.
  Its 1024 logits sit close together, so int8 top-1 agreement there is a harsh test.
- trained_mlp.onnx: the same architecture trained as a 1024-class classifier on Gaussian class
  clusters (class k's samples are its centre, a standard-normal point in 1024-d, plus noise of
  standard deviation NOISE in every dimension), with its held-out samples and their classes in
  trained_mlp_inputs.npy (float32 [HELD_OUT, 1024]) and trained_mlp_labels.npy (int64): the
  realistic check.
- transformer_512.onnx: a transformer encoder layer at BERT-small width (d_model 512, 8 heads,
  feed-forward 2048).

Run: /usr/bin/python3 bench/make_optimize_models.py OUT_DIR   (about 2 minutes on 2 CPU cores,
nearly all of it training; fixed seeds, so reruns give the same task and samples)
"""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "make"))
from optimize_models import EncoderLayer  # noqa: E402

CLASSES = 1024
FEATURES = 1024
HIDDEN = 4096
# Per-dimension noise around each class centre: far enough from the centres (noise norm 4 * 32
# against centre distances of about 45) that the trained model gets some held-out samples wrong.
NOISE = 4.0
TRAIN_SAMPLES = 32768
EPOCHS = 2
BATCH = 256
HELD_OUT = 2048


def mid_mlp():
    return torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, CLASSES)
    )


def export_mlp(model, path):
    torch.onnx.export(model.eval(), (torch.randn(2, FEATURES),), path, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      opset_version=13)


def train_classifier(out):
    """Trains the mid MLP on Gaussian class clusters; writes the model and held-out samples."""
    gen = torch.Generator().manual_seed(1)
    centres = torch.randn(CLASSES, FEATURES, generator=gen)

    def draw(n):
        labels = torch.randint(0, CLASSES, (n,), generator=gen)
        return centres[labels] + NOISE * torch.randn(n, FEATURES, generator=gen), labels

    x_train, y_train = draw(TRAIN_SAMPLES)
    x_test, y_test = draw(HELD_OUT)
    model = mid_mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    for epoch in range(EPOCHS):
        order = torch.randperm(TRAIN_SAMPLES, generator=gen)
        for at in range(0, TRAIN_SAMPLES, BATCH):
            batch = order[at:at + BATCH]
            loss = torch.nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"trained MLP: epoch {epoch + 1}/{EPOCHS}, loss {loss.item():.3f}, {time.time() - start:.0f} s")
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(f"trained MLP: held-out accuracy {accuracy * 100:.1f}% over {HELD_OUT} samples")
    export_mlp(model, os.path.join(out, "trained_mlp.onnx"))
    np.save(os.path.join(out, "trained_mlp_inputs.npy"), x_test.numpy().astype(np.float32))
    np.save(os.path.join(out, "trained_mlp_labels.npy"), y_test.numpy().astype(np.int64))


def main():
    torch.manual_seed(0)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    export_mlp(mid_mlp(), os.path.join(out, "mid_mlp.onnx"))
    enc = EncoderLayer(d=512, heads=8, ff=2048).eval()
    torch.onnx.export(enc, (torch.randn(2, 16, 512),), os.path.join(out, "transformer_512.onnx"),
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}},
                      opset_version=13)
    train_classifier(out)
    print("wrote", out)


if __name__ == "__main__":
    main()
