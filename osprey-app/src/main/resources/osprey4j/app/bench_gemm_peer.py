# The PyTorch peer of `osprey bench gemm`: times torch.nn.functional.linear on the same shapes, with the same
# thread count. Run by BenchGemmCommand as
#   /usr/bin/python3 -c "<this script>" CONFIG_JSON        CONFIG_JSON: {"threads": T, "reps": R, "budget_s": B}
# It prints one JSON line saying whether torch is there, then reads one shape per line on stdin,
# {"m","k","n","dtype","copies"}, and answers each with one JSON line; the Java side times its own product
# just before sending the shape, so both run in the same stretch of machine load.
# Weights are random normal; "copies" distinct weight tensors are used in turn so that a 1-row product streams
# its weights from memory rather than from the last-level cache, as the Java side does.
import json
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except Exception as e:  # no torch: say so, the Java side prints its own figures only
    print(json.dumps({"available": False, "reason": "cannot import torch: %s" % e}), flush=True)
    sys.exit(0)

cfg = json.loads(sys.argv[1])
torch.set_num_threads(int(cfg["threads"]))
print(json.dumps({"available": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)

def timed(call):
    """Median seconds of call(i) over cfg["reps"] runs after one warm-up, within cfg["budget_s"] seconds."""
    times = []
    with torch.no_grad():
        t0 = time.perf_counter()
        call(0)
        first = time.perf_counter() - t0
        if first > 1.0:  # a slow call needs no warm-up; count it so the peer finishes in reasonable time
            times.append(first)
        i = 1
        while len(times) < cfg["reps"] and (not times or sum(times) < cfg["budget_s"]):
            t0 = time.perf_counter()
            call(i)
            times.append(time.perf_counter() - t0)
            i += 1
    return statistics.median(times), len(times)


DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
torch.manual_seed(0)
for line in sys.stdin:
    if not line.strip():
        continue
    s = json.loads(line)
    m, k, n, dtype, copies = s["m"], s["k"], s["n"], s["dtype"], max(1, s.get("copies", 1))
    wdt = DTYPES[dtype]
    result = {"m": m, "k": k, "n": n, "dtype": dtype}
    try:
        x = torch.randn(m, k)
        # A PyTorch user runs a bf16/f16 model with activations in the same dtype (F.linear needs matching dtypes).
        x_in = x if wdt == torch.float32 else x.to(wdt)
        ws = [torch.randn(n, k).to(wdt) for _ in range(copies)]
        result["variant"] = "F.linear(%s x, %s W) -> %s out" % ((str(wdt).replace("torch.", ""),) * 3)
        median, reps = timed(lambda i: F.linear(x_in, ws[i % copies]))
        result["median_s"], result["reps"] = median, reps
        if wdt == torch.float32 and m > 1 and torch.backends.mkldnn.is_available():
            # Debian's torch runs F32 F.linear through the system BLAS (OpenBLAS here); its oneDNN path is the
            # other F32 GEMM a CPU user can pick, so time that as well.
            import torch.utils.mkldnn
            lin = torch.nn.Linear(k, n, bias=False)
            with torch.no_grad():
                lin.weight.copy_(ws[0])
            mlin = torch.utils.mkldnn.to_mkldnn(lin)
            xm = x.to_mkldnn()
            median, reps = timed(lambda i: mlin(xm))
            result["alt"] = {"variant": "torch.utils.mkldnn.to_mkldnn(Linear) on an mkldnn f32 x (oneDNN)",
                             "median_s": median, "reps": reps}
    except Exception as e:  # e.g. an op without a CPU kernel for this dtype in this torch version
        result["error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
    print(json.dumps(result), flush=True)
    x = x_in = ws = lin = mlin = xm = None  # free this shape's tensors before making the next ones
