"""PyTorch peer of `osprey bench sam`: the official segment-anything code on the CPU.

Reads a JSON config as argv[1]: {"threads", "runs", "clicks", "model", "source"} where "source" is a directory
holding the `segment_anything` package (a checkout of github.com/facebookresearch/segment-anything), or "" to use an
installed one. Builds the official model with random weights (build_sam_vit_b/l/h without a checkpoint), eval and
no_grad, F32, and prints JSON lines: a header {"available", "torch", "threads"} and then
{"encoder_first_s", "encoder_median_s", "click_median_ms", "runs", "clicks"} or {"error"}.
"""
import json
import statistics
import sys
import time

cfg = json.loads(sys.argv[1])
try:
    import torch
except Exception as e:  # noqa: BLE001
    print(json.dumps({"available": False, "reason": "torch not importable: %s" % e}))
    sys.exit(0)
if cfg.get("source"):
    sys.path.insert(0, cfg["source"])
try:
    import numpy as np
    from segment_anything import SamPredictor, sam_model_registry
except Exception as e:  # noqa: BLE001
    print(json.dumps({"available": False, "reason": "segment_anything not importable (give --reference DIR, a checkout"
                      " of facebookresearch/segment-anything): %s" % e}))
    sys.exit(0)

torch.set_num_threads(int(cfg["threads"]))
print(json.dumps({"available": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
try:
    torch.manual_seed(0)
    sam = sam_model_registry[cfg["model"]]().eval()
    size = sam.image_encoder.img_size
    pixels = torch.randn(1, 3, size, size)
    times = []
    with torch.no_grad():
        for r in range(int(cfg["runs"]) + 1):
            t0 = time.perf_counter()
            emb = sam.image_encoder(pixels)
            times.append(time.perf_counter() - t0)
        predictor = SamPredictor(sam)
        predictor.features = emb
        predictor.original_size = (size, size)
        predictor.input_size = (size, size)
        predictor.is_image_set = True
        clicks = []
        for r in range(int(cfg["clicks"]) + 1):
            t0 = time.perf_counter()
            predictor.predict(point_coords=np.array([[size / 2, size / 2]]), point_labels=np.array([1]),
                              multimask_output=True)
            clicks.append(time.perf_counter() - t0)
    print(json.dumps({"encoder_first_s": times[0], "encoder_median_s": statistics.median(times[1:]),
                      "click_median_ms": 1000 * statistics.median(clicks[1:]), "runs": len(times) - 1,
                      "clicks": len(clicks) - 1}))
except Exception as e:  # noqa: BLE001
    print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
