"""Runs ONNX models in OpenCV's DNN module for exporter/xruntime's tests.

stdin: {"jobs": [{"model": path, "shape": [N, C, H, W], "input": [floats]}]}
stdout: {"version": cv2.__version__, "results": [{"shape": [...], "logits": [...]}
         or {"error": "why OpenCV refused the model"}]}, one result per job, in order.
A job's failure is its result, not the script's: the Go test says which refusals are known.
"""
import json
import sys

import cv2
import numpy as np


def run(job):
    net = cv2.dnn.readNetFromONNX(job["model"])
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    x = np.asarray(job["input"], dtype=np.float32).reshape(job["shape"])
    net.setInput(x)
    y = net.forward()
    return {"shape": list(y.shape), "logits": y.astype(np.float32).ravel().tolist()}


def main():
    cv2.setNumThreads(1)  # the test machine is shared; one thread is also deterministic
    req = json.load(sys.stdin)
    results = []
    for job in req["jobs"]:
        try:
            results.append(run(job))
        except cv2.error as e:  # OpenCV's refusals; anything else is a bug of this script
            results.append({"error": " ".join(str(e).split())})
    json.dump({"version": cv2.__version__, "results": results}, sys.stdout)


main()
