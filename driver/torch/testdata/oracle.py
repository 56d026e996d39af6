# Test oracle: evaluates PyTorch snippets on inputs sent by the Go tests.
# stdin: {"cases": [{"name", "code", "inputs": [{"data", "shape", "dtype"}]}]}
# Each snippet sees x (list of input tensors), torch and F, and sets `out`
# (a tensor). stdout: {name: {"data": [...], "shape": [...]}} or {"error": msg}.
import json
import sys

import torch
import torch.nn.functional as F

DT = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}


def tensor(spec):
    return torch.tensor(spec["data"], dtype=DT[spec["dtype"]]).reshape(spec["shape"])


def run(case):
    env = {"torch": torch, "F": F, "x": [tensor(i) for i in case["inputs"]]}
    exec(case["code"], env)
    out = env["out"].detach()
    return {"data": out.double().flatten().tolist(), "shape": list(out.shape)}


def main():
    torch.set_num_threads(1)
    req = json.load(sys.stdin)
    res = {}
    for case in req["cases"]:
        try:
            res[case["name"]] = run(case)
        except Exception as e:  # reported per case so one bad snippet is visible
            res[case["name"]] = {"error": repr(e)}
    json.dump(res, sys.stdout)


main()
