"""What ``CNNCOURSE_THREADS`` buys on a shared machine: N processes train the same small CNN at once
(lesson 04's Inception model, Fashion-MNIST), with and without the cap; prints each setting's
training time per process and the total images per second.

    python benchmarks/thread_cap.py --processes 2 --cap 1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

WORK = """
import time
from cnncourse import data, models, set_seed, training
set_seed(42)
d = data.load_fashion_mnist({n}, 1000, one_hot=True, seed=42)
m = models.build_inception_cnn()
start = time.perf_counter()
training.fit_and_evaluate(m, d, optimizer="adam", epochs={epochs}, batch_size=64, validation="test", progress=False)
print("SECONDS", time.perf_counter() - start)
"""


def run(processes: int, cap: int | None, images: int, epochs: int) -> list[float]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("CNNCOURSE_THREADS", None)
    if cap:
        env["CNNCOURSE_THREADS"] = str(cap)
    code = WORK.format(n=images, epochs=epochs)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True) for _ in range(processes)]
    out = [p.communicate()[0] for p in procs]
    return [float(line.split()[1]) for text in out for line in text.splitlines() if line.startswith("SECONDS")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--cap", type=int, default=1, help="threads per process when capped (default 1)")
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"{args.processes} processes at once, each training lesson 04's Inception CNN on {args.images:,} "
          f"images x {args.epochs} epochs ({os.cpu_count()} CPUs)")
    for label, cap in (("uncapped", None), (f"CNNCOURSE_THREADS={args.cap}", args.cap)):
        start = time.perf_counter()
        seconds = run(args.processes, cap, args.images, args.epochs)
        wall = time.perf_counter() - start
        rate = args.processes * args.images * args.epochs / max(seconds)
        print(f"  {label:<22} training s per process: {', '.join(f'{s:.1f}' for s in seconds)};  "
              f"all together {rate:,.0f} images/s;  wall {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
