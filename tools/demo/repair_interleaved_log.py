#!/usr/bin/env python3
"""Rebuilds the demo run's train_log.jsonl after a second, accidental process wrote into the same run directory.

What happened (04:10-04:20 UTC, the bundled run): while the run was at step ~396, a second `osprey train demo`
on the same --out resumed from the step-300 checkpoint. Its --resume rewrote train_log.jsonl keeping steps 1-300
(dropping the first run's lines 301-396) and then both processes appended, interleaved, until the second was
killed at its step ~1026. The first process's training state is in memory and was never touched: its weights,
loss curve (drawn from memory) and stderr are its own. This script keeps the first process's lines:

  * steps 1-300: the file's first 300 lines (the first process wrote them);
  * steps 301-396: rebuilt from the first process's stderr progress lines (loss to 4 decimals, lr to 3
    significant digits), marked "from_stderr": true;
  * steps 397-end: of the interleaved lines, the track that continues 397, 398, ... (the second process's track
    runs ~96 steps behind it, so the two never expect the same step).

usage: repair_interleaved_log.py train_log.jsonl progress.log > repaired.jsonl
"""
import json
import re
import sys

log, progress = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(log) if l.strip()]
out = []
i = 0
while i < len(lines) and lines[i]["step"] == i + 1:
    out.append(lines[i])
    i += 1
cut = out[-1]["step"]
# the first process's stderr: "step N/T  epoch E  loss L  lr R  ..."
pat = re.compile(r"^step (\d+)/(\d+)\s+epoch (\d+)\s+loss (\S+)\s+lr (\S+)")
stderr = {}
for l in open(progress):
    m = pat.match(l)
    if m:
        stderr[int(m.group(1))] = (float(m.group(4)), float(m.group(5)), int(m.group(3)))
rest = lines[i:]
first_kept = min(l["step"] for l in rest if l["step"] > cut + 1 and all(
    r["step"] != l["step"] - 1 for r in rest[:rest.index(l)]))
for s in range(cut + 1, first_kept):
    loss, lr, epoch = stderr[s]
    out.append({"step": s, "epoch_number": epoch, "loss": loss, "lr": lr, "from_stderr": True})
expect = first_kept
for l in rest:
    if l["step"] == expect:
        out.append(l)
        expect += 1
for s in range(expect, max(stderr) + 1):
    loss, lr, epoch = stderr[s]
    out.append({"step": s, "epoch_number": epoch, "loss": loss, "lr": lr, "from_stderr": True})
assert [o["step"] for o in out] == list(range(1, len(out) + 1)), "steps not contiguous"
for o in out:
    if not o.get("from_stderr"):
        want = stderr.get(o["step"])
        assert want is None or abs(o["loss"] - want[0]) < 6e-5, (o, want)
for o in out:
    print(json.dumps(o))
