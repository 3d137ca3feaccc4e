"""Runs llama.cpp's own convert_hf_to_gguf.py on a Hugging Face LLaMA directory, for `osprey bench decode|prefill`.

Usage: python3 -c "$(cat llama_cpp_convert.py)" LLAMA_CPP_DIR MODEL_DIR OUT_FILE OUTTYPE

The converter is run unchanged (its arguments: MODEL_DIR --outfile OUT_FILE --outtype OUTTYPE). Two things it
imports are missing from Debian's Python packages, so small stand-ins are installed first, and only for names
the converter does not already find:
- `transformers`: the converter imports `AutoConfig` at module level (and `AutoTokenizer` inside methods a
  SentencePiece LLaMA never calls). Our stand-in's `AutoConfig.from_pretrained` raises, and the converter then
  reads config.json itself, which is its own documented fallback.
- torch 1.13 (Debian) has no float8 dtypes, which the converter names in class-level tables of dtypes; they are
  set to torch.uint8 (same byte size), which only matters for FP8 checkpoints, and ours is BF16.
"""
import os
import runpy
import sys
import types

llama_cpp, model_dir, out_file, outtype = sys.argv[1:5]

try:
    import transformers  # noqa: F401  (a real one is used when present)
except ImportError:
    shim = types.ModuleType("transformers")

    class _NoTransformers:
        @classmethod
        def from_pretrained(cls, *args, **kwargs):
            raise RuntimeError("transformers is not installed (osprey bench's stand-in)")

    shim.AutoConfig = _NoTransformers
    shim.AutoTokenizer = _NoTransformers
    sys.modules["transformers"] = shim

import torch  # noqa: E402

for name in ("float8_e4m3fn", "float8_e5m2"):
    if not hasattr(torch, name):
        setattr(torch, name, torch.uint8)

sys.path.insert(0, os.path.join(llama_cpp, "gguf-py"))
sys.path.insert(0, llama_cpp)
sys.argv = [os.path.join(llama_cpp, "convert_hf_to_gguf.py"), model_dir, "--outfile", out_file, "--outtype", outtype]
runpy.run_path(sys.argv[0], run_name="__main__")
