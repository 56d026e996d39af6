"""PyTorch side of bench-engine: the same training steps as models.go.

Driven by bench-engine over stdin/stdout; see main.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F

MLP_DIMS = [2352, 100, 100, 32, 10]
EPS = 1e-20  # same clamp as driver/torch.MaskNoiseEps


def ste_mask(scores, gen):
    u0 = torch.rand(scores.shape, generator=gen, device="cpu").clamp_min_(EPS).to(scores.device)
    u1 = torch.rand(scores.shape, generator=gen, device="cpu").clamp_min_(EPS).to(scores.device)
    noise = -torch.log(torch.log(u1) / torch.log(u0))
    soft = torch.sigmoid((scores + noise) / 1.0)
    hard = (soft > 0.5).float()
    return hard - soft.detach() + soft


def batch(dev, gen, n, *shape):
    x = torch.rand((n,) + shape, generator=gen).to(dev)
    y = torch.multinomial(torch.ones(10), n, True, generator=gen).to(dev)
    return x, y


def mlp(dev, n, masked):
    gen = torch.Generator().manual_seed(1)
    ws = [(torch.randn(o, i, generator=gen) * 0.05).to(dev) for i, o in zip(MLP_DIMS, MLP_DIMS[1:])]
    bs = [torch.zeros(o, device=dev) for o in MLP_DIMS[1:]]
    scores = [torch.full(w.shape, 1.5, device=dev) for w in ws] if masked else []
    x, y = batch(dev, gen, n, MLP_DIMS[0])
    train = scores if masked else ws + bs
    for t in train:
        t.requires_grad_(True)
    opt = torch.optim.Adam(train, lr=1e-2, betas=(0.9, 0.99), eps=1e-8)

    def step():
        h = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            if masked:
                w = w * ste_mask(scores[i], gen)
            h = F.linear(h, w, b)
            if i + 1 < len(ws):
                h = F.relu(h)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(h, y).backward()
        opt.step()

    return step


def cnn(dev, n):
    gen = torch.Generator().manual_seed(2)
    ch = [3, 64, 128, 256]
    conv = [(torch.randn(o, i, 4, 4, generator=gen) * 0.05).to(dev) for i, o in zip(ch, ch[1:])]
    bn_w = [torch.ones(o, device=dev) for o in ch[1:]]
    bn_b = [torch.zeros(o, device=dev) for o in ch[1:]]
    rm = [torch.zeros(o, device=dev) for o in ch[1:]]
    rv = [torch.ones(o, device=dev) for o in ch[1:]]
    fc_w, fc_b = (torch.randn(10, 256, generator=gen) * 0.05).to(dev), torch.zeros(10, device=dev)
    x, y = batch(dev, gen, n, 3, 28, 28)
    train = conv + bn_w + bn_b + [fc_w, fc_b]
    for t in train:
        t.requires_grad_(True)
    opt = torch.optim.Adam(train, lr=1e-3, betas=(0.9, 0.99), eps=1e-8)

    def step():
        h = x
        for i in range(3):
            h = F.conv2d(h, conv[i], None, stride=2, padding=1)
            h = F.relu(F.batch_norm(h, rm[i], rv[i], bn_w[i], bn_b[i], True, 0.1, 1e-5))
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(F.linear(h, fc_w, fc_b), y).backward()
        opt.step()

    return step


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def time_steps(step, dev, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(dev)
    return (time.perf_counter() - start) * 1000 / steps


def main():
    """Serves timing requests so the Go side can interleave rounds with ours:
    each stdin line "<model>\t<steps>" is answered by one line of ms/step."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    build = {
        "mlp": lambda: mlp(dev, a.batch, False),
        "masked mlp": lambda: mlp(dev, a.batch, True),
        "cnn": lambda: cnn(dev, a.batch),
    }
    steps = {}
    print("ready", flush=True)
    for line in sys.stdin:
        name, n = line.rstrip("\n").split("\t")
        if name not in steps:
            steps[name] = build[name]()
        print(f"{time_steps(steps[name], dev, int(n)):.6f}", flush=True)


main()
