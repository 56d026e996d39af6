"""bench-train's report: dcwp-train's summary.json beside ref_train.py's figures, with ratios.

usage: report.py MODEL THREADS GO_SUMMARY GO_WALL REF_JSON REF_WALL OUT_JSON [PRECISION [MEMORY_FORMAT [REF_PRECISION [REF_MEMORY_FORMAT]]]]
(the reference's settings default to dcwp-train's)
"""
import json
import os
import sys

STAGES = ("pretrain", "mine", "prune", "finetune")
ACC = ("accuracy", "aligned_accuracy", "conflicting_accuracy", "worst_group_accuracy")


def side(summary, wall):
    return {
        "wall_seconds": round(wall, 3),
        "stage_seconds": {k: round(summary["stage_seconds"].get(k, 0), 3) for k in STAGES},
        "peak_memory_mb": round(summary.get("peak_memory_mb", 0), 1),
        "vanilla_test": {k: summary["vanilla"]["test"][k] for k in ACC},
        "dcwp_test": {k: summary["dcwp"]["test"][k] for k in ACC},
        "mined": {k: summary["mined"][k] for k in ("precision", "recall")},
        "kept_ratio": summary["kept_ratio"],
    }


def ratio(a, b):
    return round(a / b, 3) if b else None


def times(v):
    return f"{v:8.2f}x" if v is not None else f"{'-':>9s}"


def main():
    model, threads, go_summary, go_wall, ref_json, ref_wall, out = sys.argv[1:8]
    precision, memory_format = (sys.argv[8:] + ["fp32", "contiguous"][len(sys.argv[8:]):])[:2]
    ref_precision, ref_format = (sys.argv[10:] + [precision, memory_format][len(sys.argv[10:]):])[:2]
    go = side(json.load(open(go_summary)), float(go_wall))
    ref_out = json.load(open(ref_json))
    ref = side(ref_out, float(ref_wall))
    # the run's config.json says which engine and libtorch trained it
    config_path = os.path.join(os.path.dirname(go_summary), "config.json")
    config = json.load(open(config_path))
    if not config.get("engine") or not config.get("libtorch"):
        sys.exit(f"report.py: {config_path} names no engine or libtorch (a dcwp-train older than the engine matrix?)")
    if not ref_out.get("torch_version"):
        sys.exit(f"report.py: {ref_json} names no torch_version")
    engine, libtorch = config["engine"], config["libtorch"]
    res = {
        "model": model, "dataset": "cmnist", "conflict_pct": "1", "preset": "paper",
        "engine": engine, "libtorch": libtorch, "reference_torch": ref_out["torch_version"],
        "threads_per_side": int(threads), "precision": precision, "memory_format": memory_format,
        "reference_precision": ref_precision, "reference_memory_format": ref_format,
        "dcwp_train": go, "reference": ref,
        "speedup": {  # reference time ÷ dcwp-train time: above 1, dcwp-train is faster
            "wall": ratio(ref["wall_seconds"], go["wall_seconds"]),
            **{k: ratio(ref["stage_seconds"][k], go["stage_seconds"][k]) for k in STAGES},
        },
        "memory_ratio": ratio(go["peak_memory_mb"], ref["peak_memory_mb"]),  # below 1: dcwp-train uses less
    }
    tmp = out + ".tmp"  # a reader never sees half a report
    with open(tmp, "w") as f:
        json.dump(res, f, indent=2)
    os.replace(tmp, out)
    print(f"{model}: dcwp-train on engine {engine}, libtorch {libtorch}; reference PyTorch {res['reference_torch']}")
    print(f"{'':14s} {'wall':>8s} " + " ".join(f"{k:>9s}" for k in STAGES) + f" {'peak MB':>8s}  vanilla -> DCWP conflicting")
    for name, s in (("dcwp-train", go), ("reference", ref)):
        st = s["stage_seconds"]
        print(f"{name:14s} {s['wall_seconds']:7.1f}s " + " ".join(f"{st[k]:8.1f}s" for k in STAGES)
              + f" {s['peak_memory_mb']:8.0f}  {100 * s['vanilla_test']['conflicting_accuracy']:.2f}% -> "
              + f"{100 * s['dcwp_test']['conflicting_accuracy']:.2f}%")
    sp = res["speedup"]
    print(f"{'speedup':14s}{times(sp['wall'])} " + " ".join(times(sp[k]) for k in STAGES)
          + f" {res['memory_ratio']:8.2f}  (memory: dcwp-train / reference)")


if __name__ == "__main__":
    main()
