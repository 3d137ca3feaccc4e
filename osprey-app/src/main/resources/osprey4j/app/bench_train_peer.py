# The PyTorch peer of `osprey bench train`: the same training step as osprey4j's TrainBench (a random Osprey at
# the given dimensions: projector, mask extractor, splice, LLaMA layers, final norm, head, cross-entropy over the
# second half of the prompt; one sample; global-norm clipping at 1.0; AdamW over every parameter), written in
# plain torch (F32, autograd), on the given number of threads. Prints one JSON line: the median step time.
import json
import sys
import time

cfg = json.loads(sys.argv[1])
try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as e:  # no torch: the bench prints its own figures only
    print(json.dumps({"available": False, "reason": "torch not importable: %s" % e}), flush=True)
    sys.exit(0)

torch.set_num_threads(cfg["threads"])
torch.manual_seed(1)
d = cfg["dims"]
h, inter, layers, heads, kv = d["hidden"], d["intermediate"], d["layers"], d["heads"], d["kv_heads"]
vocab, eps, theta = d["vocab"], d["rms_eps"], d["rope_theta"]
hd = h // heads


class RMSNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope(x, pos):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    f = torch.outer(pos.float(), inv)
    emb = torch.cat([f, f], -1)
    cos, sin = emb.cos()[None], emb.sin()[None]
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.n1, self.n2 = RMSNorm(h), RMSNorm(h)
        self.q, self.k, self.v = nn.Linear(h, h, bias=False), nn.Linear(h, kv * hd, bias=False), nn.Linear(h, kv * hd, bias=False)
        self.o = nn.Linear(h, h, bias=False)
        self.g, self.u, self.dn = nn.Linear(h, inter, bias=False), nn.Linear(h, inter, bias=False), nn.Linear(inter, h, bias=False)

    def forward(self, x):
        t = x.shape[0]
        pos = torch.arange(t)
        y = self.n1(x)
        q = rope(self.q(y).view(t, heads, hd).transpose(0, 1), pos)
        k = rope(self.k(y).view(t, kv, hd).transpose(0, 1), pos)
        v = self.v(y).view(t, kv, hd).transpose(0, 1)
        if kv != heads:
            k = k.repeat_interleave(heads // kv, 0)
            v = v.repeat_interleave(heads // kv, 0)
        s = (q @ k.transpose(1, 2)) / hd ** 0.5
        s = s.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
        a = (s.softmax(-1) @ v).transpose(0, 1).reshape(t, h)
        x = x + self.o(a)
        y = self.n2(x)
        return x + self.dn(F.silu(self.g(y)) * self.u(y))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, h)
        proj = [nn.Linear(d["projector_in"], h)]
        for _ in range(d["projector_depth"] - 1):
            proj += [nn.GELU(), nn.Linear(h, h)]
        self.proj = nn.Sequential(*proj)
        self.levels = nn.ModuleList([nn.Linear(c, d["mask_embed"]) for c in d["level_channels"]])
        self.feat = nn.Linear(d["mask_embed"], h)
        widths = [d["mask_grid"] ** 2] + d["pos_hidden"] + [h]
        pos = []
        for i in range(len(widths) - 1):
            if i > 0:
                pos.append(nn.ReLU())
            pos.append(nn.Linear(widths[i], widths[i + 1]))
        self.pos = nn.Sequential(*pos)
        self.layers = nn.ModuleList([Layer() for _ in range(layers)])
        self.norm = RMSNorm(h)
        self.head = nn.Linear(h, vocab, bias=False)

    def forward(self, ids, image_at, mask_at, levels, masks, labels):
        img = self.proj(levels[2].flatten(1).t())
        pooled = 0
        for f, lin in zip(levels, self.levels):
            m = (F.interpolate(masks[:, None], size=f.shape[-2:], mode="bilinear", align_corners=False)[:, 0] > 0).float()
            p = (m[:, None] * f[None]).sum((2, 3)) / (m.sum((1, 2))[:, None] + 1e-8)
            pooled = pooled + lin(p)
        mask_tok = self.feat(pooled)
        grid = F.interpolate(masks[:, None], size=(d["mask_grid"],) * 2, mode="bilinear", align_corners=False)[:, 0]
        pos_tok = self.pos(grid.flatten(1))
        e = self.embed(ids.clamp(min=0, max=vocab - 1))
        for r, at in enumerate(mask_at):
            e = torch.cat([e[:at], mask_tok[r:r + 1], pos_tok[r:r + 1], e[at + 2:]])
        x = torch.cat([e[:image_at], img, e[image_at + 1:]])
        lab = torch.cat([labels[:image_at], torch.full((img.shape[0],), -100), labels[image_at + 1:]])
        for layer in self.layers:
            x = layer(x)
        x = self.norm(x)
        sel = (lab[1:] != -100).nonzero()[:, 0]
        logits = self.head(x[sel])
        return F.cross_entropy(logits, lab[1:][sel])


model = Model()
s = cfg["sample"]
g = torch.Generator().manual_seed(2)
ids = torch.tensor(s["ids"])
labels = torch.tensor(s["labels"])
levels = [torch.rand(c, side, side, generator=g) * 2 - 1 for c, side in zip(d["level_channels"], s["level_sides"])]
masks = torch.tensor(s["masks"], dtype=torch.float32).view(len(s["mask_at"]), s["mask_side"], s["mask_side"])
opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.0)
times = []
for step in range(cfg["steps"]):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=False)
    loss = model(ids, s["image_at"], s["mask_at"], levels, masks, labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    times.append((time.perf_counter() - t0) * 1000)
warm = sorted(times[1:] if len(times) > 1 else times)
print(json.dumps({"available": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "median_ms": warm[len(warm) // 2], "step_ms": times,
                  "parameters": sum(p.numel() for p in model.parameters())}), flush=True)
