#!/usr/bin/python3
"""The reference side of `osprey bench e2e`: the official Osprey PyTorch code, on the CPU, on a model directory
that osprey4j wrote in the official layout (random weights at 7B dimensions), measured as the bench measures
osprey4j: time to the first token for a question about one region of a new image, the same for a second region
of the same image, the decoding rate after the first token, and the process's peak resident memory (VmHWM).

This script is ours and vendors nothing: the official sources are checked out under --ref (see README.md next to
this file) and imported from there. It runs the official classes and forward code unchanged:

- the model is `OspreyLlamaForCausalLM` built from the directory's config.json with the official construction
  (`disable_torch_init`, as the demo calls it; transformers' `no_init_weights`, as `from_pretrained` uses it); the
  vision tower loads itself from the CLIP file named by `mm_vision_tower`, as in the reference; every other
  weight comes from model.safetensors. transformers 4.31 can only read safetensors through the Rust package,
  which is absent here, so the file is read by this script, one tensor at a time into its parameter (the same
  bytes `from_pretrained(torch_dtype=torch.bfloat16)` would give, without holding the file twice);
- preprocessing, prompt splicing, mask extraction and generation are the demo's (`osprey_inference.py`):
  CLIPImageProcessor without centre crop, bilinear to 512x512, `masks.half()`, `model.generate` with the masks
  bound into `forward`, greedy here (do_sample=False) so both sides run the same number of tokens;
- dtypes: the LLM, the projector and the mask extractor in bfloat16 as deployed (`torch_dtype=torch.bfloat16` and
  the forward's own `.bfloat16()` casts); the vision tower is deployed in float16, but torch 1.13 has no float16
  convolution on the CPU, so it runs in bfloat16 here;
- products: this machine's torch (Debian's 1.13, generic BLAS, AVX2, no AVX-512) has no fast bfloat16 GEMM: a
  bfloat16 `linear` of 128 x 4096 x 4096 runs at 0.63 GFLOP/s against 34 GFLOP/s in float32 (one thread), so the
  deployed dtypes run as they are would take hours per question at 7B. By default (--bf16-products f32) every
  bfloat16 product of more than one row (`F.linear`, `torch.matmul`, `F.conv2d`) widens its operands to float32,
  multiplies there and rounds the result back to bfloat16: weights, activations and the KV cache stay bfloat16 in
  memory (the peak RSS is the deployed one) and the arithmetic is what a GPU's bfloat16 tensor cores do (bfloat16
  operands, float32 accumulation). One-row products (decoding) stay native bfloat16, which is as fast there.
  --bf16-products native runs everything as it is;
- the prompt ids are osprey4j's (--input-ids, -200 marking the image), so both sides run the very same sequence;
  the model's tokenizer is used only to find `<mask>`, whose id a stand-in gives.

Prints progress to stdout; writes one JSON object to --out.
"""
import argparse
import functools
import json
import os
import struct
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "osprey_reference"))

from make_parity_fixtures import install_import_shims, working_directory  # noqa: E402


def vm_hwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def safetensors_index(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header, 8 + n


class MaskTokenIds:
    """What the official forward asks of its tokenizer: the ids of <mask> and <pos> (added after the
    SentencePiece pieces, as added_tokens.json lists them)."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "added_tokens.json")) as f:
            self.ids = json.load(f)

    def convert_tokens_to_ids(self, tokens):
        return [self.ids[t] for t in tokens]


def log(msg):
    print(msg, flush=True)


def load_model(model_dir):
    import torch
    from transformers.modeling_utils import no_init_weights
    from osprey.utils import disable_torch_init
    from osprey.model.language_model.osprey_llama import OspreyConfig, OspreyLlamaForCausalLM

    disable_torch_init()
    config = OspreyConfig.from_pretrained(model_dir)
    with working_directory(model_dir), no_init_weights(_enable=True):
        model = OspreyLlamaForCausalLM(config)  # builds and loads the vision tower from mm_vision_tower
    tower_prefix = "model.vision_tower."
    weights = os.path.join(model_dir, "model.safetensors")
    header, data_start = safetensors_index(weights)
    dtypes = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    loaded = 0
    with open(weights, "rb") as f:
        for name in list(model.state_dict().keys()):
            if name.startswith(tower_prefix):
                continue  # the tower is the CLIP file's, as the reference loads it
            if name not in header:
                raise SystemExit(f"{weights} has no tensor {name}")
            info = header[name]
            begin, end = info["data_offsets"]
            buf = bytearray(end - begin)
            f.seek(data_start + begin)
            f.readinto(buf)
            t = torch.frombuffer(buf, dtype=dtypes[info["dtype"]]).reshape(info["shape"])
            if name in params:
                params[name].data = t
            else:
                buffers[name].copy_(t)
            loaded += 1
    model.tokenizer = MaskTokenIds(model_dir)
    for m in model.modules():
        m.tokenizer = model.tokenizer
    tower = model.get_vision_tower()
    if not tower.is_loaded:
        tower.load_model()
    tower.to(dtype=torch.bfloat16)  # deployed in float16, which torch 1.13 cannot convolve on the CPU
    model.eval()
    return model, loaded


def f32_products():
    """bfloat16 products of more than one row computed in float32 (see the module docstring)."""
    import torch
    import torch.nn.functional as F
    linear, matmul, conv2d = F.linear, torch.matmul, F.conv2d
    bf16 = torch.bfloat16

    def rows(x):
        return x.numel() // max(x.shape[-1], 1) if x.dim() >= 2 else 1

    def widened_linear(x, w, b=None):
        if x.dtype == bf16 and w.dtype == bf16 and rows(x) > 1:
            return linear(x.float(), w.float(), None if b is None else b.float()).to(bf16)
        return linear(x, w, b)

    def widened_matmul(a, b, **kw):
        if not kw and a.dtype == bf16 and b.dtype == bf16 and a.dim() >= 2 and a.shape[-2] > 1:
            return matmul(a.float(), b.float()).to(bf16)
        return matmul(a, b, **kw)

    def widened_conv2d(x, w, b=None, *args, **kw):
        if x.dtype == bf16 and w.dtype == bf16:
            return conv2d(x.float(), w.float(), None if b is None else b.float(), *args, **kw).to(bf16)
        return conv2d(x, w, b, *args, **kw)

    F.linear, torch.matmul, F.conv2d = widened_linear, widened_matmul, widened_conv2d


class TokenClock:
    """A transformers streamer: the first put() is the prompt, each later one a generated token."""

    def __init__(self):
        self.calls = 0
        self.times = []

    def put(self, value):
        self.calls += 1
        if self.calls > 1:
            self.times.append(time.perf_counter())

    def end(self):
        pass


def ask(model, image, mask, input_ids, new_tokens):
    """One question as the demo asks it; returns (seconds to the first token, token times, generated ids)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    clock = TokenClock()
    t0 = time.perf_counter()
    processor = model.get_vision_tower().image_processor
    pixels = processor.preprocess(image, do_center_crop=False, return_tensors="pt")["pixel_values"][0]
    pixels = F.interpolate(pixels.unsqueeze(0), size=(512, 512), mode="bilinear", align_corners=False).squeeze(0)
    masks = torch.Tensor(np.asarray(mask)).unsqueeze(0)
    with torch.inference_mode():
        model.orig_forward = model.forward
        model.forward = functools.partial(model.orig_forward, img_metas=[None], masks=[masks.half()])
        try:
            out = model.generate(input_ids, images=pixels.unsqueeze(0).to(torch.bfloat16), do_sample=False,
                                 num_beams=1, max_new_tokens=new_tokens, use_cache=True, streamer=clock)
        finally:
            model.forward = model.orig_forward
    if not clock.times:
        raise SystemExit("the reference generated no token")
    return clock.times[0] - t0, clock.times, out[0, input_ids.shape[1]:].tolist()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ref", required=True, help="osprey, tgit, timm, open_clip, hfhub checkouts (README.md)")
    p.add_argument("--model", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--mask1", required=True)
    p.add_argument("--mask2", required=True)
    p.add_argument("--input-ids", required=True, help="comma-separated prompt ids, -200 for the image")
    p.add_argument("--tokens", type=int, default=8)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--work", required=True, help="a directory for the import shims")
    p.add_argument("--out", required=True)
    p.add_argument("--bf16-products", choices=("f32", "native"), default="f32",
                   help="f32: bfloat16 products of more than one row computed in float32 (default); native: as is")
    args = p.parse_args()

    ns = types.SimpleNamespace(work=args.work, huggingface_hub=os.path.join(args.ref, "hfhub"),
                               transformers=os.path.join(args.ref, "tgit"), timm=os.path.join(args.ref, "timm"),
                               open_clip=os.path.join(args.ref, "open_clip"), osprey=os.path.join(args.ref, "osprey"))
    os.makedirs(args.work, exist_ok=True)
    install_import_shims(ns)
    import numpy as np
    import torch
    from PIL import Image

    torch.set_num_threads(args.threads)
    if args.bf16_products == "f32":
        f32_products()
    model_dir = os.path.abspath(args.model)
    t0 = time.perf_counter()
    model, loaded = load_model(model_dir)
    load_s = time.perf_counter() - t0
    log(f"loaded in {load_s:.1f} s ({loaded} tensors from model.safetensors, the tower from the CLIP file)")

    image = Image.open(args.image).convert("RGB")
    mask1 = (np.asarray(Image.open(args.mask1).convert("L")) > 0).astype(np.uint8)
    mask2 = (np.asarray(Image.open(args.mask2).convert("L")) > 0).astype(np.uint8)
    input_ids = torch.tensor([[int(x) for x in args.input_ids.split(",")]], dtype=torch.long)

    log(f"first region (encode + prefill + {args.tokens} tokens)...")
    first_s, times, generated = ask(model, image, mask1, input_ids, args.tokens)
    log(f"first region: first token after {first_s:.2f} s")
    decode = (len(times) - 1) / (times[-1] - times[0]) if len(times) >= 2 else None
    log("next region (same image; the reference has no cache: it runs everything again)...")
    next_s, _, _ = ask(model, image, mask2, input_ids, 1)
    log(f"next region: first token after {next_s:.2f} s")
    hwm = vm_hwm_kb()
    result = {
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "dtypes": "LLM, projector, mask extractor bf16 (as deployed); vision tower bf16 (deployed fp16: torch 1.13"
                  " has no fp16 convolution on the CPU)" + (
                      "; bf16 products of more than one row computed in f32 (bf16 operands widened, result rounded"
                      " to bf16: this torch's bf16 GEMM runs at ~0.6 GFLOP/s)" if args.bf16_products == "f32"
                      else "; bf16 products native"),
        "bf16_products": args.bf16_products,
        "load_s": load_s,
        "first_region_s": first_s,
        "next_region_s": next_s,
        "generated_tokens": len(times),
        "generated_ids": generated,
        "decode_tokens_per_s": decode,
        "vm_hwm_kb": hwm,
        "peak_rss_gb": hwm * 1024 / 1e9,
        "prompt_ids": int(input_ids.shape[1]),
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
