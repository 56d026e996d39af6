"""The reference side of bench-train: the whole DCWP run on Colored MNIST in plain PyTorch.

A PyTorch implementation of the four stages as shared/spec/dcwp-method.md describes them (clean
variant, --preset paper settings of dcwp-train), written the way the reference code trains:
nn.Modules, torch.optim, one Python loop per stage, a checkpoint every 200 iterations and the
same validation cadence as dcwp-train. It reads the published cmnist layout (PNG files) into
memory once, before any stage starts, so its stage times hold no PNG decoding, which the
reference code's DataLoader does on every batch: the comparison favours this side.

Prints one JSON object: stage seconds, peak resident memory, accuracies, mined precision and
recall, kept ratio, the same fields bench-train reads from dcwp-train's summary.json.
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

EPS = 1e-20  # the mask noise's uniform draws are clamped here, as in driver/torch
CLASSES = 10


def load_split(folder):
    """Images and (label, bias) of one split folder: <folder>/<sub>/<index>_<label>_<bias>.png."""
    files = sorted(Path(folder).rglob("*.png"))
    if not files:
        sys.exit(f"ref_train: no PNG files under {folder}")
    xs = np.empty((len(files), 3, 28, 28), dtype=np.uint8)
    ys = np.empty(len(files), dtype=np.int64)
    bs = np.empty(len(files), dtype=np.int64)
    for i, p in enumerate(files):
        parts = p.stem.split("_")
        ys[i], bs[i] = int(parts[-2]), int(parts[-1])
        img = np.asarray(Image.open(p).convert("RGB")).transpose(2, 0, 1)
        if img.shape != xs.shape[1:]:
            sys.exit(f"ref_train: {p}: image is {img.shape[2]}×{img.shape[1]}, want 28×28")
        xs[i] = img
    return torch.from_numpy(xs), torch.from_numpy(ys), torch.from_numpy(bs)


def load_data(root, pct):
    base = Path(root) / "cmnist"
    parts = [load_split(base / f"{pct}pct" / d) for d in ("align", "conflict")]
    train = tuple(torch.cat([p[i] for p in parts]) for i in range(3))
    return train, load_split(base / f"{pct}pct" / "valid"), load_split(base / "test")


def pixels(x, idx, dev):
    """A batch of uint8 images as floats in [0, 1]: the data stays as compact as dcwp-train's."""
    return x[idx].to(dev).float().div_(255)


def ste_mask(score, tau):
    """Hard 0/1 sample of 1[Θ + logistic noise > 0] with the sigmoid's gradient (clean variant)."""
    u0 = torch.rand_like(score).clamp_min_(EPS)
    u1 = torch.rand_like(score).clamp_min_(EPS)
    noise = -torch.log(torch.log(u1) / torch.log(u0))
    soft = torch.sigmoid((score + noise) / tau)
    hard = (soft > 0.5).float()
    return hard - soft.detach() + soft


class Masked(nn.Module):
    """A Conv2d or Linear whose weight is multiplied by a mask drawn from (or fixed by) scores."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.score = nn.Parameter(torch.full_like(layer.weight, 1.5), requires_grad=False)
        self.mode = "none"  # none | sample | fixed
        self.tau = 1.0

    def forward(self, x):
        w = self.layer.weight
        if self.mode == "sample":
            w = w * ste_mask(self.score, self.tau)
        elif self.mode == "fixed":
            w = w * (self.score >= 0).float()
        if isinstance(self.layer, nn.Conv2d):
            return F.conv2d(x, w, self.layer.bias, self.layer.stride, self.layer.padding)
        return F.linear(x, w, self.layer.bias)


class Net(nn.Module):
    """A network whose forward runs under bf16 autocast when bf16 is set (float32 outputs for
    the losses, as dcwp-train's --precision bf16), on channels-last input when that is set."""

    bf16 = False
    channels_last = False

    def forward(self, x):
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if not self.bf16:
            return self.body(x)
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            logits, feat = self.body(x)
        return logits.float(), feat.float()


class MLP(Net):
    def __init__(self):
        super().__init__()
        dims = [2352, 100, 100, 32]
        self.hidden = nn.ModuleList(Masked(nn.Linear(i, o)) for i, o in zip(dims, dims[1:]))
        self.fc = Masked(nn.Linear(32, CLASSES))

    def body(self, x):
        h = x.flatten(1)
        for m in self.hidden:
            h = F.relu(m(h))
        return self.fc(h), h


class CNN(Net):
    def __init__(self):
        super().__init__()
        ch = [3, 64, 128, 256]
        self.convs = nn.ModuleList(Masked(nn.Conv2d(i, o, 4, 2, 1, bias=False)) for i, o in zip(ch, ch[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm2d(o) for o in ch[1:])
        self.fc = Masked(nn.Linear(256, CLASSES))

    def body(self, x):
        h = x
        for c, b in zip(self.convs, self.bns):
            h = F.relu(b(c(h)))
        f = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return self.fc(f), f


def masked_layers(net):
    return [m for m in net.modules() if isinstance(m, Masked)]


def set_mask_mode(net, mode):
    for m in masked_layers(net):
        m.mode = mode


def weights(net):
    return [p for n, p in net.named_parameters() if not n.endswith("score")]


def scores(net):
    return [m.score for m in masked_layers(net)]


def gce(logits, y, q):
    ce = F.cross_entropy(logits, y, reduction="none")
    p = torch.exp(-ce.detach())
    return (ce * p.pow(q) * q).mean()


def supcon(feat, y, flags, temperature):
    """SupCon on L2-normalised features; positives: same label, j != i, flag_i or flag_j."""
    z = F.normalize(feat, dim=1)
    n = z.shape[0]
    not_self = ~torch.eye(n, dtype=torch.bool, device=z.device)
    pos = (y[:, None] == y[None, :]) & (flags[:, None] | flags[None, :]) & not_self
    sim = z @ z.T / temperature
    logits = sim - sim.max(dim=1, keepdim=True).values.detach()
    denom = torch.log((torch.exp(logits) * not_self).sum(1, keepdim=True))
    log_prob = logits - denom
    count = pos.sum(1)
    valid = count > 0
    if not valid.any():
        return feat.new_zeros(())
    mean_pos = (log_prob * pos).sum(1)[valid] / count[valid]
    return -mean_pos.mean()


class Shuffle:
    """Epoch-wise shuffled batches without replacement."""

    def __init__(self, n, batch):
        self.n, self.batch, self.perm, self.pos = n, batch, torch.randperm(n), 0

    def next(self):
        if self.pos + self.batch > self.n:
            self.perm, self.pos = torch.randperm(self.n), 0
        idx = self.perm[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx


class Weighted:
    """Batches drawn with replacement, mined samples weighted λ_up."""

    def __init__(self, flags, up, batch):
        self.w = torch.where(flags, torch.tensor(float(up)), torch.tensor(1.0))
        self.batch = batch

    def next(self):
        return torch.multinomial(self.w, self.batch, replacement=True)


@torch.no_grad()
def evaluate(net, split, dev, batch=1024):
    """Accuracy overall and over the (label, bias) cells, in eval mode."""
    x, y, b = split
    net.eval()
    right = torch.zeros(CLASSES, CLASSES)
    count = torch.zeros(CLASSES, CLASSES)
    for i in range(0, len(y), batch):
        pred = net(pixels(x, slice(i, i + batch), dev))[0].argmax(1).cpu()
        yy, bb = y[i:i + batch], b[i:i + batch]
        count.index_put_((yy, bb), torch.ones(len(yy)), accumulate=True)
        right.index_put_((yy, bb), (pred == yy).float(), accumulate=True)
    net.train()
    cells = right / count.clamp_min(1)
    have = count > 0
    diag = torch.eye(CLASSES, dtype=torch.bool)
    return {
        "accuracy": float(right.sum() / count.sum()),
        "aligned_accuracy": float(cells[diag & have].mean()),
        "conflicting_accuracy": float(cells[~diag & have].mean()),
        "worst_group_accuracy": float(cells[have].min()),
    }


@torch.no_grad()
def predict(net, x, dev, batch=1024):
    net.eval()
    out = torch.cat([net(pixels(x, slice(i, i + batch), dev))[0].argmax(1).cpu() for i in range(0, len(x), batch)])
    net.train()
    return out


def checkpoint(ckdir, state):
    """Written atomically, as dcwp-train writes its checkpoints."""
    fd, tmp = tempfile.mkstemp(dir=ckdir, suffix=".tmp")
    os.close(fd)
    torch.save(state, tmp)
    os.replace(tmp, os.path.join(ckdir, "state.pt"))


def due(it, every, iters):
    """Whether iteration it (0-based) is on the cadence every, or the last of iters."""
    return (it + 1) % every == 0 or it + 1 == iters


def train_loop(a, name, net, opt, sched, batches, loss_fn, iters, evals, eval_mask=None):
    """One stage's loop: step, checkpoint every a.checkpoint_every, validate where evals(it) says
    (with the mask mode eval_mask, when given), and a progress line on stderr every tenth of the
    way."""
    start = time.perf_counter()
    for it in range(iters):
        loss = loss_fn(batches.next())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        if (it + 1) % a.checkpoint_every == 0 and it + 1 < iters:
            checkpoint(a.ckdir, {"net": net.state_dict(), "opt": opt.state_dict(), "iter": it + 1})
        if evals(it):
            if eval_mask is not None:
                set_mask_mode(net, eval_mask)
            evaluate(net, a.valid, a.dev)
        if (it + 1) % max(iters // 10, 1) == 0:
            rate = (it + 1) / (time.perf_counter() - start)
            print(f"reference {name} {it + 1}/{iters} loss {loss.item():.4f} ({rate:.1f} it/s)", file=sys.stderr, flush=True)


def pretrain(a, build):
    """The SGD/GCE mining network and the Adam/CE classifier, two runs from scratch (cmnist)."""
    x, y, _ = a.train
    n = len(y)
    miner = build().to(a.dev)
    opt = torch.optim.SGD(weights(miner), lr=0.1, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, 600, 0.1)
    sh = Shuffle(n, a.batch)
    loss = lambda idx: gce(miner(pixels(x, idx, a.dev))[0], y[idx].to(a.dev), 0.7)
    train_loop(a, "pretrain-miner", miner, opt, sched, sh, loss, a.mining_iters, lambda it: False)

    erm = build().to(a.dev)
    opt = torch.optim.Adam(weights(erm), lr=1e-2, betas=(0.9, 0.99))
    sh = Shuffle(n, a.batch)
    loss = lambda idx: F.cross_entropy(erm(pixels(x, idx, a.dev))[0], y[idx].to(a.dev))
    train_loop(a, "pretrain", erm, opt, None, sh, loss, a.pretrain_iters,
               lambda it: due(it, 10 * a.eval_every, a.pretrain_iters))
    return miner, erm


def prune(a, net, flags):
    x, y, _ = a.train
    for p in weights(net):
        p.requires_grad_(False)
    for s in scores(net):
        s.requires_grad_(True)
    opt = torch.optim.Adam(scores(net), lr=1e-2, betas=(0.9, 0.99))
    fl = flags.to(a.dev)

    def loss(idx):
        set_mask_mode(net, "sample")
        logits, feat = net(pixels(x, idx, a.dev))
        yy = y[idx].to(a.dev)
        sparse = sum(s.abs().sum() for s in scores(net))
        return F.cross_entropy(logits, yy) + a.lambda_sparse * sparse + a.lambda_con * supcon(feat, yy, fl[idx], 0.07)

    # validation of the subnetwork 1[Θ ≥ 0], as dcwp-train logs it; the next step samples again
    evals = lambda it: it > 0 and due(it, a.eval_every, a.prune_iters)
    train_loop(a, "prune", net, opt, None, Weighted(flags, a.lambda_up, a.batch), loss, a.prune_iters, evals, "fixed")
    for s in scores(net):
        s.requires_grad_(False)
    set_mask_mode(net, "fixed")


def finetune(a, net, vanilla_state, flags):
    x, y, _ = a.train
    masks = {k: v for k, v in net.state_dict().items() if k.endswith("score")}
    net.load_state_dict({**vanilla_state, **masks})
    set_mask_mode(net, "fixed")
    for p in weights(net):
        p.requires_grad_(True)
    opt = torch.optim.Adam(weights(net), lr=1e-3, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.StepLR(opt, 1000, 0.1)
    fl = flags.to(a.dev)

    def loss(idx):
        logits, feat = net(pixels(x, idx, a.dev))
        yy = y[idx].to(a.dev)
        return F.cross_entropy(logits, yy) + a.lambda_con * supcon(feat, yy, fl[idx], 0.07)

    evals = lambda it: due(it, a.eval_every, a.finetune_iters)
    train_loop(a, "finetune", net, opt, sched, Weighted(flags, a.lambda_up, a.batch), loss, a.finetune_iters, evals)


def run(a):
    cls = {"mlp": MLP, "cnn": CNN}[a.model]

    def build():
        net = cls()
        net.bf16, net.channels_last = a.precision == "bf16", a.memory_format == "channels-last"
        return net.to(memory_format=torch.channels_last) if net.channels_last else net

    print(f"reference: decoding the PNGs of {a.data}/cmnist ({a.pct}pct, test)", file=sys.stderr, flush=True)
    t = time.perf_counter()
    a.train, a.valid, test = load_data(a.data, a.pct)
    load_s = time.perf_counter() - t
    secs = {}

    t = time.perf_counter()
    miner, erm = pretrain(a, build)
    secs["pretrain"] = time.perf_counter() - t

    t = time.perf_counter()
    flags = predict(miner, a.train[0], a.dev) != a.train[1]
    conflict = a.train[1] != a.train[2]
    secs["mine"] = time.perf_counter() - t
    hit = int((flags & conflict).sum())

    vanilla_state = {k: v.clone() for k, v in erm.state_dict().items()}
    vanilla_test = evaluate(erm, test, a.dev)
    t = time.perf_counter()
    prune(a, erm, flags)
    secs["prune"] = time.perf_counter() - t
    kept = sum(int((s >= 0).sum()) for s in scores(erm)) / sum(s.numel() for s in scores(erm))

    t = time.perf_counter()
    finetune(a, erm, vanilla_state, flags)
    secs["finetune"] = time.perf_counter() - t
    return {
        "model": a.model, "torch_version": torch.__version__, "threads": torch.get_num_threads(), "load_seconds": load_s,
        "precision": a.precision, "memory_format": a.memory_format,
        "stage_seconds": secs,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "vanilla": {"test": vanilla_test}, "dcwp": {"test": evaluate(erm, test, a.dev)},
        "mined": {"precision": hit / max(int(flags.sum()), 1), "recall": hit / max(int(conflict.sum()), 1)},
        "kept_ratio": kept,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="data root holding cmnist/ in the published layout")
    ap.add_argument("--pct", default="1")
    ap.add_argument("--model", choices=["mlp", "cnn"], default="cnn")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", "--batch-size", dest="batch", type=int, default=256)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16: torch.autocast, as dcwp-train's")
    ap.add_argument("--memory-format", choices=["contiguous", "channels-last"], default="contiguous")
    ap.add_argument("--mining-iters", type=int, default=2000)
    ap.add_argument("--pretrain-iters", type=int, default=10000)
    ap.add_argument("--prune-iters", type=int, default=2000)
    ap.add_argument("--finetune-iters", type=int, default=1000)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--lambda-up", type=float, default=50)
    ap.add_argument("--lambda-sparse", type=float, default=1e-8)
    ap.add_argument("--lambda-con", type=float, default=None, help="default: dcwp-train's (mlp 1, cnn 0.05)")
    a = ap.parse_args()
    if a.lambda_con is None:
        a.lambda_con = 1.0 if a.model == "mlp" else 0.05
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    a.dev = torch.device(a.device)
    with tempfile.TemporaryDirectory(prefix="ref-train-") as ckdir:
        a.ckdir = ckdir
        print(json.dumps(run(a), indent=2))


if __name__ == "__main__":
    main()
