"""Writes a torchvision ResNet-18 state_dict (random weights and BatchNorm statistics, no
download) as safetensors, plus an input batch and torchvision's own eval-mode outputs for it.

usage: torchvision_resnet18.py WEIGHTS.safetensors IO.safetensors
"""
import json
import struct
import sys

import torch
import torchvision

DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def save(path, tensors):
    # python3-safetensors is not packaged in Debian 12; the format is a JSON header and raw bytes.
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        b = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(7)
    m = torchvision.models.resnet18(weights=None)
    for mod in m.modules():  # non-trivial BatchNorm so eval mode is really tested
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)
            mod.running_mean.uniform_(-0.1, 0.1)
            mod.running_var.uniform_(0.5, 2)
            mod.num_batches_tracked.fill_(123)
    m.eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        feats = []
        h = m.avgpool.register_forward_hook(lambda mod, i, o: feats.append(torch.flatten(o, 1)))
        logits = m(x)
        h.remove()
    save(sys.argv[1], m.state_dict())
    save(sys.argv[2], {"x": x, "logits": logits, "features": feats[0]})


if __name__ == "__main__":
    main()
