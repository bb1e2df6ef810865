#!/usr/bin/python3
"""The torch side of `npm run bench -- pickle`: makes the checkpoint when asked, or does the
job ferry does (torch.load, then write the same safetensors bytes) and prints seconds and peak
RSS as JSON. Also times picklescan's approach to scanning: pickletools.genops over data.pkl."""
import json
import os
import resource
import struct
import sys
import time
import zipfile
import pickletools
import io

cmd, path = sys.argv[1], sys.argv[2]
if cmd == 'make':
    import torch
    torch.manual_seed(0)
    # 17 x 2048 x 4096 fp32 = 544 MiB, plus small tensors and a tied pair.
    sd = {f'layers.{i}.weight': torch.randn(2048, 4096) for i in range(17)}
    sd['norm.weight'] = torch.ones(4096)
    torch.save(sd, path)
    print(json.dumps({'bytes': os.path.getsize(path)}))
elif cmd == 'convert':
    import torch
    out = sys.argv[3]
    start = time.perf_counter()
    sd = torch.load(path, map_location='cpu')
    names = sorted(sd)
    header, offset = {}, 0
    for n in names:
        t = sd[n].contiguous()
        size = t.numel() * t.element_size()
        header[n] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(out, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for n in names:
            f.write(sd[n].contiguous().numpy().tobytes())
        # ferry's writer fsyncs before its atomic rename; do the same so both are durable.
        f.flush()
        os.fsync(f.fileno())
    seconds = time.perf_counter() - start
    print(json.dumps({'seconds': seconds, 'maxrss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
elif cmd == 'scan':
    start = time.perf_counter()
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith('.pkl'):
                globals_ = [a for op, a, _ in pickletools.genops(io.BytesIO(z.read(name))) if op.name in ('GLOBAL', 'STACK_GLOBAL')]
    print(json.dumps({'seconds': time.perf_counter() - start}))
