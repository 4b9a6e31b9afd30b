"""A straightforward PyTorch DARTS search supernet, the reference for `search_step.py`.

Written for the benchmark only (not part of keras_darts): the same search space
(8 ops, BN without affine, pools followed by BN), the same sizes and the same
steps (first-order bi-level: an Adam step on the alphas from a validation
batch, then an SGD step on the weights; second-order bi-level: the unrolled
architecture gradient of DARTS with its virtual SGD step and central
finite-difference Hessian-vector product, five forward/backward passes;
single-level: one loss, both updates), in the plain style of the reference
implementations. Used only when torch is installed.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

PRIMITIVES = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
              "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"]


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in, c_out, k, stride, pad):
        super().__init__(nn.ReLU(), nn.Conv2d(c_in, c_out, k, stride, pad, bias=False),
                         nn.BatchNorm2d(c_out, affine=False))


class DilConv(nn.Sequential):
    def __init__(self, c, k, stride, pad, dil):
        super().__init__(nn.ReLU(), nn.Conv2d(c, c, k, stride, pad, dilation=dil, groups=c,
                                              bias=False),
                         nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=False))


class SepConv(nn.Sequential):
    def __init__(self, c, k, stride, pad):
        super().__init__(DilConv(c, k, stride, pad, 1), DilConv(c, k, 1, pad, 1))


class FactorizedReduce(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.c1 = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.c2 = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=False)

    def forward(self, x):
        x = F.relu(x)
        return self.bn(torch.cat([self.c1(x), self.c2(x[:, :, 1:, 1:])], 1))


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x[:, :, ::self.stride, ::self.stride] * 0.0


def make_op(name, c, stride):
    if name == "none":
        return Zero(stride)
    if name == "max_pool_3x3":
        return nn.Sequential(nn.MaxPool2d(3, stride, 1), nn.BatchNorm2d(c, affine=False))
    if name == "avg_pool_3x3":
        return nn.Sequential(nn.AvgPool2d(3, stride, 1, count_include_pad=False),
                             nn.BatchNorm2d(c, affine=False))
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    k = int(name[-1])
    if name.startswith("sep"):
        return SepConv(c, k, stride, k // 2)
    return DilConv(c, k, stride, k - 1, 2)


class MixedOp(nn.Module):
    def __init__(self, c, stride):
        super().__init__()
        self.ops = nn.ModuleList(make_op(p, c, stride) for p in PRIMITIVES)

    def forward(self, x, w):
        return sum(wi * op(x) for wi, op in zip(w, self.ops))


class Cell(nn.Module):
    def __init__(self, steps, mult, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.pre0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0)
        self.pre1 = ReLUConvBN(c_p, c, 1, 1, 0)
        self.steps, self.mult = steps, mult
        self.ops = nn.ModuleList(MixedOp(c, 2 if reduction and j < 2 else 1)
                                 for i in range(steps) for j in range(2 + i))

    def forward(self, s0, s1, weights):
        states = [self.pre0(s0), self.pre1(s1)]
        offset = 0
        for i in range(self.steps):
            s = sum(self.ops[offset + j](h, weights[offset + j]) for j, h in enumerate(states))
            offset += len(states)
            states.append(s)
        return torch.cat(states[-self.mult:], 1)


class Network(nn.Module):
    def __init__(self, c=16, num_classes=10, layers=8, steps=4, mult=4, stem_mult=3, in_ch=3):
        super().__init__()
        c_curr = stem_mult * c
        self.stem = nn.Sequential(nn.Conv2d(in_ch, c_curr, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, c
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
            self.cells.append(Cell(steps, mult, c_pp, c_p, c_curr, reduction, reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, mult * c_curr
        self.classifier = nn.Linear(c_p, num_classes)
        n_edges = sum(2 + i for i in range(steps))
        self.alphas_normal = nn.Parameter(1e-3 * torch.randn(n_edges, len(PRIMITIVES)))
        self.alphas_reduce = nn.Parameter(1e-3 * torch.randn(n_edges, len(PRIMITIVES)))
        self.reductions = (layers // 3, 2 * layers // 3)

    def weight_parameters(self):
        return [p for n, p in self.named_parameters() if "alphas" not in n]

    def arch_parameters(self):
        return [self.alphas_normal, self.alphas_reduce]

    def forward(self, x):
        s0 = s1 = self.stem(x)
        wn, wr = F.softmax(self.alphas_normal, -1), F.softmax(self.alphas_reduce, -1)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, wr if i in self.reductions else wn)
        return self.classifier(F.adaptive_avg_pool2d(s1, 1).flatten(1))


#: the strategies `make_step` implements.
KINDS = ("darts-1", "darts-2", "single-level")


def unrolled_arch_grads(net, w_opt, batch, fd_scale=0.01):
    """DARTS's second-order architecture gradient; leaves the weights as they were."""
    (xt, yt), (xv, yv) = batch
    w_params, a_params = net.weight_parameters(), net.arch_parameters()
    group = w_opt.param_groups[0]
    eta, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
    # Virtual step w' = w - eta * (mu * buffer + dL_train/dw + wd * w).
    grads = torch.autograd.grad(F.cross_entropy(net(xt), yt), w_params)
    backup = [p.detach().clone() for p in w_params]
    with torch.no_grad():
        for p, g in zip(w_params, grads):
            buf = w_opt.state.get(p, {}).get("momentum_buffer")
            d = g + wd * p if buf is None else mu * buf + g + wd * p
            p.sub_(eta * d)
    # dL_val(w')/dalpha and dL_val(w')/dw'.
    val_grads = torch.autograd.grad(F.cross_entropy(net(xv), yv), a_params + w_params)
    d_alpha, d_w = val_grads[:len(a_params)], val_grads[len(a_params):]
    eps = fd_scale / torch.cat([g.flatten() for g in d_w]).norm()

    def arch_grad_at(sign):
        with torch.no_grad():
            for p, w0, d in zip(w_params, backup, d_w):
                p.copy_(w0 + sign * eps * d)
        return torch.autograd.grad(F.cross_entropy(net(xt), yt), a_params)

    g_plus, g_minus = arch_grad_at(1.0), arch_grad_at(-1.0)
    with torch.no_grad():
        for p, w0 in zip(w_params, backup):
            p.copy_(w0)
    return [da - eta * (gp - gm) / (2 * eps) for da, gp, gm in zip(d_alpha, g_plus, g_minus)]


def make_step(kind, net):
    """Returns a function running one search step of `kind` (one of `KINDS`)."""
    w_opt = torch.optim.SGD(net.weight_parameters(), 0.025, momentum=0.9, weight_decay=3e-4)
    a_opt = torch.optim.Adam(net.arch_parameters(), 3e-4, betas=(0.5, 0.999), weight_decay=1e-3)

    def weight_step(x, y):
        w_opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(net.weight_parameters(), 5.0)
        w_opt.step()
        return loss

    if kind == "darts-1":
        def step(batch):
            (xt, yt), (xv, yv) = batch
            a_opt.zero_grad()
            F.cross_entropy(net(xv), yv).backward()
            a_opt.step()
            return weight_step(xt, yt)
    elif kind == "darts-2":
        def step(batch):
            a_opt.zero_grad()
            for a, g in zip(net.arch_parameters(), unrolled_arch_grads(net, w_opt, batch)):
                a.grad = g
            a_opt.step()
            return weight_step(*batch[0])
    elif kind == "single-level":
        def step(batch):
            x, y = batch
            w_opt.zero_grad()
            a_opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(net.weight_parameters(), 5.0)
            w_opt.step()
            a_opt.step()
            return loss
    else:
        raise ValueError(f"The PyTorch reference implements {', '.join(KINDS)}, not {kind!r}")
    return step
