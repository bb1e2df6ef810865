#!/usr/bin/python3
"""Checkpoints for `npm run bench -- dedup` (issue #20), made by Debian's torch.

A GPT-2-small-like stack (token embedding 32000x768, 6 blocks of attention and MLP weights, LM
head) in fp32, about 270 MB. Writes into OUT (argv[1]):
  v1.safetensors          the base model
  v2-partial.safetensors  v1 after 3 Adam steps on the last block only (10% of the parameters;
                          the rest frozen)
  v3-full.safetensors     v1 after 1 Adam step on every parameter
  run-a.safetensors,      two checkpoints of one training run (every parameter trained), 3 steps
  run-b.safetensors       apart: the analogue of Xet's two GPT-2 versions
  v1.pt                   v1's state_dict by torch.save (zip); the bench converts it to safetensors

Run: /usr/bin/python3 bench/make/dedup_checkpoints.py OUT
"""
import json
import os
import struct
import sys

import torch
from torch import nn

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
VOCAB, D, BLOCKS = 32000, 768, 6


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D)
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)
        self.ln2 = nn.LayerNorm(D)
        self.up = nn.Linear(D, 4 * D)
        self.down = nn.Linear(4 * D, D)

    def forward(self, x):
        # no attention mixing: the weights' sizes and training are what matter here
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        x = x + self.proj(torch.softmax(q @ k.transpose(-1, -2) / D ** 0.5, -1) @ v)
        return x + self.down(torch.nn.functional.gelu(self.up(self.ln2(x))))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, D)
        self.blocks = nn.ModuleList(Block() for _ in range(BLOCKS))
        self.ln = nn.LayerNorm(D)
        self.head = nn.Linear(D, 4096)  # a smaller head than the vocabulary keeps the file near 280 MB

    def forward(self, tokens):
        x = self.emb(tokens)
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln(x))


def write_safetensors(path, state):
    """The safetensors layout (8-byte LE header length, JSON header, raw little-endian data)."""
    header, offset, blobs = {}, 0, []
    for name, t in state.items():
        data = t.detach().contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def train(model, params, steps):
    opt = torch.optim.Adam(params, lr=1e-3)
    for _ in range(steps):
        tokens = torch.randint(0, VOCAB, (2, 32))
        loss = nn.functional.cross_entropy(model(tokens).flatten(0, 1), tokens.flatten() % 4096)
        opt.zero_grad()
        loss.backward()
        opt.step()


def snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


model = Model()
base = snapshot(model)
write_safetensors(os.path.join(OUT, 'v1.safetensors'), base)
torch.save(base, os.path.join(OUT, 'v1.pt'))

# The last block: 10.1% of the parameters (the head and everything before it stay frozen).
last = list(model.blocks[-1].parameters())
total = sum(p.numel() for p in model.parameters())
trained = sum(p.numel() for p in last)
train(model, last, 3)
write_safetensors(os.path.join(OUT, 'v2-partial.safetensors'), snapshot(model))

model.load_state_dict(base)
train(model, list(model.parameters()), 1)
write_safetensors(os.path.join(OUT, 'v3-full.safetensors'), snapshot(model))

model.load_state_dict(base)
train(model, list(model.parameters()), 2)
write_safetensors(os.path.join(OUT, 'run-a.safetensors'), snapshot(model))
train(model, list(model.parameters()), 3)
write_safetensors(os.path.join(OUT, 'run-b.safetensors'), snapshot(model))

with open(os.path.join(OUT, 'made.json'), 'w') as f:
    json.dump({'parameters': total, 'partialTrained': trained, 'torch': torch.__version__}, f)
