"""PyTorch side of bench-engine: the training steps of steps.go, written as a
PyTorch user would write dcwp-train's (clean variant, Colored MNIST paper
preset). The settings (learning rates, loss weights, labels and mined flags)
come from the Go side with each request, so both sides take the same step.

Driven by bench-engine over stdin/stdout; see main.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

EPS = 1e-20  # same clamp as driver/torch.MaskNoiseEps
BN_MOMENTUM, BN_EPS = 0.1, 1e-5  # arch.BNMomentum, arch.BNEps


def uniform(gen, dev, bound, *shape):
    return ((torch.rand(shape, generator=gen) * 2 - 1) * bound).to(dev)


class MLP:
    """arch.MLP on Colored MNIST: flatten, 100, 100, 32 with ReLU, then 10."""

    dims = [3 * 28 * 28, 100, 100, 32, 10]

    def __init__(self, dev, gen):
        pairs = list(zip(self.dims, self.dims[1:]))
        self.weights = [uniform(gen, dev, 1 / math.sqrt(i), o, i) for i, o in pairs]
        self.biases = [uniform(gen, dev, 1 / math.sqrt(i), o) for i, o in pairs]
        self.trainable = self.weights + self.biases

    def __call__(self, x, weights):
        h, feat = x.flatten(1), None
        for i, (w, b) in enumerate(zip(weights, self.biases)):
            h = F.linear(h, w, b)
            if i + 1 < len(weights):
                h = feat = F.relu(h)
        return h, feat


class CNN:
    """arch.CNN on Colored MNIST: three conv4x4/s2 + BN + ReLU, global pool, linear."""

    channels = [3, 64, 128, 256]

    def __init__(self, dev, gen):
        pairs = list(zip(self.channels, self.channels[1:]))
        self.weights = [uniform(gen, dev, 1 / math.sqrt(i * 16), o, i, 4, 4) for i, o in pairs]
        self.bn_w = [torch.ones(o, device=dev) for _, o in pairs]
        self.bn_b = [torch.zeros(o, device=dev) for _, o in pairs]
        self.mean = [torch.zeros(o, device=dev) for _, o in pairs]
        self.var = [torch.ones(o, device=dev) for _, o in pairs]
        self.weights.append(uniform(gen, dev, 1 / 16, 10, 256))
        self.fc_b = uniform(gen, dev, 1 / 16, 10)
        self.trainable = self.weights + self.bn_w + self.bn_b + [self.fc_b]

    def __call__(self, x, weights):
        h = x
        for i in range(3):
            h = F.conv2d(h, weights[i], None, stride=2, padding=1)
            h = F.relu(F.batch_norm(h, self.mean[i], self.var[i], self.bn_w[i], self.bn_b[i], True, BN_MOMENTUM, BN_EPS))
        feat = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return F.linear(feat, weights[3], self.fc_b), feat


def ste_mask(scores, tau, gen):
    """driver/torch.StraightThroughMask: a hard Gumbel-sigmoid sample, soft gradient."""
    with torch.no_grad():
        u0 = torch.rand(scores.shape, generator=gen).clamp_min_(EPS).to(scores.device)
        u1 = torch.rand(scores.shape, generator=gen).clamp_min_(EPS).to(scores.device)
        noise = -torch.log(torch.log(u1) / torch.log(u0))
    soft = torch.sigmoid((scores + noise) / tau)
    hard = (soft > 0.5).float()
    return hard - soft.detach() + soft


def supcon(feat, labels, flags, temperature):
    """driver/loss.SupCon, clean variant: positives share the label and one of the pair is mined."""
    n = feat.shape[0]
    not_self = ~torch.eye(n, dtype=torch.bool, device=feat.device)
    pos = ((labels[:, None] == labels[None, :]) & not_self & (flags[:, None] | flags[None, :])).float()
    count = pos.sum(1)
    valid = (count > 0).float()
    z = F.normalize(feat, dim=1)
    sim = z @ z.T / temperature
    logits = sim - sim.amax(1, keepdim=True).detach()
    log_prob = logits - torch.log((torch.exp(logits) * not_self).sum(1, keepdim=True))
    mean_pos = (pos * log_prob).sum(1) / count.clamp_min(1)
    return -(mean_pos * valid).sum() / valid.sum()


def forward(net, dev, s):
    """net's forward as the settings s say: under bf16 autocast (float32 outputs for the losses,
    as driver/model gives), on channels-last input; a PyTorch user's mixed precision."""
    if s.get("precision", "fp32") != "bf16":
        return net

    def run(x, weights):
        with torch.autocast(dev.type, dtype=torch.bfloat16):
            logits, feat = net(x, weights)
        return logits.float(), feat.float()

    return run


def make_step(dev, s):
    """One iteration of the stage the settings s describe; see steps.go."""
    gen = torch.Generator().manual_seed(1)
    net = {"mlp": MLP, "cnn": CNN}[s["model"]](dev, gen)
    n = s["batch"]
    x = torch.rand((n, 3, 28, 28), generator=gen).to(dev)
    layout = lambda t: t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t
    if not s.get("channels_last"):
        layout = lambda t: t
    rest = net.trainable[len(net.weights):]  # trainable is the weights, then the rest
    net.weights = [layout(w) for w in net.weights]
    net.trainable = net.weights + rest
    x = layout(x)
    labels = torch.tensor(s["labels"], dtype=torch.int64, device=dev)
    flags = torch.tensor(s["flags"], dtype=torch.bool, device=dev)
    if s["prune"]:
        scores = [layout(torch.full(w.shape, s["score_init"], device=dev)).requires_grad_(True) for w in net.weights]
        train = scores
    else:
        train = net.trainable
        for t in train:
            t.requires_grad_(True)
    opt = torch.optim.Adam(train, lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"])
    it = [0]
    fwd = forward(net, dev, s)

    def step():
        if s["prune"]:
            g = torch.Generator().manual_seed(it[0])  # a generator per iteration, as the stage makes
            masked = [w * ste_mask(sc, s["tau"], g) for w, sc in zip(net.weights, scores)]
            logits, feat = fwd(x, masked)
            sparse = sum(sc.abs().sum() for sc in scores)
            total = (F.cross_entropy(logits, labels) + s["lambda_sparse"] * sparse
                     + s["lambda_con"] * supcon(feat, labels, flags, s["temperature"]))
        else:
            total = F.cross_entropy(fwd(x, net.weights)[0], labels)
        it[0] += 1
        total.item()
        total.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

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
    each stdin line {"name", "steps", "settings"} is answered by one line of
    ms/step; a name's step is built from its settings the first time."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    steps = {}
    print("ready", flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req["name"] not in steps:
            steps[req["name"]] = make_step(dev, req["settings"])
        print(f"{time_steps(steps[req['name']], dev, req['steps']):.6f}", flush=True)


main()
