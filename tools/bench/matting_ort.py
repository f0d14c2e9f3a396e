"""MODNet in onnxruntime on one thread, per input shape: the reference the matting step is
measured against (run by tools/bench/matting.sh, not in CI).

    python matting_ort.py MODEL RUNS HxW...

Prints one line per shape, "HxW ort MS", the fastest of RUNS runs on the same synthetic input
the Rust example times (a fixed pattern in the model's input range).
"""

import sys
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    model, runs, shapes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for shape in shapes:
        h, w = (int(v) for v in shape.split("x"))
        c, y, x = np.meshgrid(np.arange(3), np.arange(h), np.arange(w), indexing="ij")
        pattern = ((x * 7 + y * 3 + c * 11) % 255).astype(np.float32)
        batch = ((pattern - 127.5) / 127.5)[None]
        session.run(None, {name: batch})  # the first run allocates
        best = float("inf")
        for _ in range(runs):
            t = time.perf_counter()
            session.run(None, {name: batch})
            best = min(best, (time.perf_counter() - t) * 1e3)
        print(f"{h}x{w} ort {best:.0f}", flush=True)


if __name__ == "__main__":
    main()
