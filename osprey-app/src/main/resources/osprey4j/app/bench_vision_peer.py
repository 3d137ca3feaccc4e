# The PyTorch peer of `osprey bench vision`: a ConvNeXt trunk written here in plain torch (the structure of timm
# 0.6.13's ConvNeXt as open_clip builds it for ConvNeXt-Large: 4x4/4 stem conv + LayerNorm2d; stages of
# [LayerNorm2d + 2x2/2 conv] downsampling and blocks dwconv7x7 -> permute -> LayerNorm -> Linear -> GELU ->
# Linear -> permute -> * gamma -> + shortcut, the channels-last Linear path of timm's default), random weights,
# eval() and no_grad(), run on one random image, returning every stage's output like extract_features.
# Prints one JSON object per line on stdout. Run by BenchVisionCommand as
#   /usr/bin/python3 - CONFIG_JSON   (this script on stdin)
# CONFIG_JSON: {"threads": T, "runs": R, "dims": [...], "depths": [...], "size": S}
import json
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as e:  # no torch: say so, the Java side prints its own figures only
    print(json.dumps({"available": False, "reason": "cannot import torch: %s" % e}), flush=True)
    sys.exit(0)

cfg = json.loads(sys.argv[1])
torch.set_num_threads(int(cfg["threads"]))
print(json.dumps({"available": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map (timm's LayerNorm2d)."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv_dw = nn.Conv2d(c, c, kernel_size=7, padding=3, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.fc1 = nn.Linear(c, 4 * c)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(4 * c, c)
        self.gamma = nn.Parameter(torch.full((c,), 0.1))

    def forward(self, x):
        shortcut = x
        x = self.conv_dw(x).permute(0, 2, 3, 1)
        x = self.fc2(self.act(self.fc1(self.norm(x))))
        x = x.permute(0, 3, 1, 2).mul(self.gamma.reshape(1, -1, 1, 1))
        return x + shortcut


class Stage(nn.Module):
    def __init__(self, cin, c, depth, downsample):
        super().__init__()
        self.downsample = (nn.Sequential(LayerNorm2d(cin, eps=1e-6), nn.Conv2d(cin, c, kernel_size=2, stride=2))
                           if downsample else nn.Identity())
        self.blocks = nn.Sequential(*[Block(c) for _ in range(depth)])

    def forward(self, x):
        return self.blocks(self.downsample(x))


class ConvNeXtTrunk(nn.Module):
    def __init__(self, dims, depths):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], kernel_size=4, stride=4), LayerNorm2d(dims[0], eps=1e-6))
        stages, prev = [], dims[0]
        for i, (c, d) in enumerate(zip(dims, depths)):
            stages.append(Stage(prev, c, d, i > 0))
            prev = c
        self.stages = nn.ModuleList(stages)

    def forward(self, x):
        x = self.stem(x)
        features = [x]
        for s in self.stages:
            x = s(x)
            features.append(x)
        return features


result = {"dtype": "F32"}
try:
    torch.manual_seed(0)
    t0 = time.perf_counter()
    model = ConvNeXtTrunk(cfg["dims"], cfg["depths"]).eval()
    result["build_s"] = time.perf_counter() - t0
    pixels = torch.randn(1, 3, cfg["size"], cfg["size"])
    with torch.no_grad():
        t0 = time.perf_counter()
        model(pixels)
        result["first_s"] = time.perf_counter() - t0
        times = []
        for _ in range(int(cfg["runs"])):
            t0 = time.perf_counter()
            model(pixels)
            times.append(time.perf_counter() - t0)
    result["median_s"] = statistics.median(times)
    result["runs"] = len(times)
except Exception as e:  # report, do not crash the Java side
    result["error"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(result), flush=True)
