"""Benchmark lesson 04's per-epoch embeddings: what they cost next to training, what the
article's approach costs on the same machine, how the alignment methods compare, and
what numba's disk cache saves.

    python benchmarks/lesson04_embedding.py                 # laptop sizes, 3 epochs
    python benchmarks/lesson04_embedding.py --epochs 2 --skip-article

Four measurements, printed as tables and appended as one JSON line to
``build/benchmarks.jsonl``:

1. ratio: per epoch, the four models' embedding work (probe prediction + UMAP of the
   probe) divided by that epoch's training time, one seed (the lesson trains and embeds every
   seed alike, so the ratio is the same; the laptop target: at most 1/10);
2. the article's approach: the hidden layer of one model for all 60,000 training images,
   then UMAP on all of them (one epoch of one model), against ours (the probe);
3. alignment: UMAP initialised from the previous epoch (what the lesson uses) against
   independent UMAPs and umap-learn's AlignedUMAP, on the same recorded features:
   seconds, mean displacement per epoch (lower = steadier animation), final silhouette;
4. numba: a fresh Python process's first UMAP fit with an empty cache, then again with
   the cache the first one filled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST_FIT = """
import time, numpy as np
start = time.perf_counter()
from cnncourse import embedding
x = np.random.default_rng(0).normal(size=(1000, 128)).astype("float32")
embedding.embed_epochs({0: x}, n_neighbors=40)
print("SECONDS", time.perf_counter() - start)
"""


def _first_fit_seconds(cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run([sys.executable, "-c", FIRST_FIT], env=env, capture_output=True, text=True, check=True)
    return float([l for l in out.stdout.splitlines() if l.startswith("SECONDS")][-1].split()[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="laptop", choices=["smoke", "laptop", "full"])
    parser.add_argument("--epochs", type=int, default=3, help="epochs to train (default 3)")
    parser.add_argument("--skip-article", action="store_true", help="skip the UMAP of the whole training set")
    args = parser.parse_args(argv)

    import numpy as np
    import pandas as pd
    import umap

    from cnncourse import data, embedding, get_profile, models, training

    settings = get_profile(args.profile).lesson04
    record: dict = {"benchmark": "lesson04_embedding", "profile": args.profile, "epochs": args.epochs,
                    "probe_size": settings.probe_size, "n_neighbors": settings.n_neighbors,
                    "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "date": time.strftime("%Y-%m-%d %H:%M")}

    # 4. numba cache, first: cold (empty cache folder), then warm (the same folder)
    with tempfile.TemporaryDirectory() as cache:
        cold = _first_fit_seconds(cache)
        warm = _first_fit_seconds(cache)
    record["numba"] = {"first_fit_cold_s": round(cold, 1), "first_fit_warm_s": round(warm, 1)}
    print(f"numba: a new process's first UMAP fit (import included): {cold:.1f} s with an empty cache, "
          f"{warm:.1f} s with the cache filled")

    # 1. ratio, on the profile's data and probe
    fashion = data.load_fashion_mnist(settings.fashion_train, settings.fashion_test, one_hot=True, seed=42,
                                      n_val=settings.fashion_val)
    probe_index = data.stratified_indices(fashion.labels("train"), settings.probe_size, seed=42)
    probe, labels = fashion.x_train[probe_index], fashion.labels("train")[probe_index]
    recorders = {name: training.HiddenActivationRecorder(probe) for name in models.ARCHITECTURES}
    _, runs = training.train_models(
        models.ARCHITECTURES, fashion, optimizer="adam", epochs=args.epochs, batch_size=settings.batch_size,
        validation="val", seed=settings.seeds[0], callbacks={n: [r] for n, r in recorders.items()})
    embedding.enable_compile_cache()
    features = {n: r.features for n, r in recorders.items()}
    embeddings, umap_s = embedding.embed_models(features, n_neighbors=settings.n_neighbors)
    epochs = range(1, args.epochs + 1)
    ratio = pd.DataFrame({
        "training_s": [sum(r.epoch_seconds[e] for r in recorders.values()) for e in epochs],
        "recording_s": [sum(r.seconds[e] for r in recorders.values()) for e in epochs],
        "umap_s": [sum(s[e] for s in umap_s.values()) for e in epochs],
    }, index=pd.Index(epochs, name="epoch"))
    ratio["ratio"] = (ratio.recording_s + ratio.umap_s) / ratio.training_s
    print(f"\n1. embedding / training per epoch, four models, {settings.probe_size} probe images:")
    print(ratio.round(3).to_string())
    record["ratio"] = ratio.round(3).reset_index().to_dict("records")
    record["ratio_mean"] = round(float(ratio.ratio.mean()), 3)

    # 2. the article's approach: all 60,000 training images, one model, one epoch
    name = "Sequential"
    if not args.skip_article:
        extractor = recorders[name].extractor
        all_train = data.load_fashion_mnist(None, 1000, seed=42).x_train
        n_fit = len(all_train)
        start = time.perf_counter()
        everything = extractor.predict(all_train, batch_size=512, verbose=0)
        predict_all = time.perf_counter() - start
        start = time.perf_counter()
        umap.UMAP(n_neighbors=40, random_state=42, n_jobs=1).fit_transform(everything)
        umap_all = time.perf_counter() - start
        ours = recorders[name].seconds[args.epochs] + umap_s[name][args.epochs]
        record["article_approach"] = {"images": int(n_fit), "predict_s": round(predict_all, 1),
                                      "umap_s": round(umap_all, 1), "ours_s": round(ours, 2),
                                      "epoch_training_s": round(recorders[name].epoch_seconds[args.epochs], 1)}
        print(f"\n2. one epoch of {name}: the article's way ({n_fit} images): predict {predict_all:.1f} s + "
              f"UMAP {umap_all:.1f} s = {predict_all + umap_all:.1f} s;  ours ({settings.probe_size} probe "
              f"images): {ours:.2f} s;  that epoch's training: {recorders[name].epoch_seconds[args.epochs]:.1f} s")

    # 3. alignment methods on the same features
    name = "Inception+Residual"
    by_epoch = features[name]
    rows = []
    for label, align in (("init from previous (lesson)", True), ("independent", False)):
        start = time.perf_counter()
        emb = embedding.embed_epochs(by_epoch, n_neighbors=settings.n_neighbors, seed=42, align=align)
        rows.append((label, time.perf_counter() - start, emb))
    order = sorted(by_epoch)
    warm = [f[:60] for f in (by_epoch[order[0]], by_epoch[order[-1]])]   # compile AlignedUMAP's code first
    umap.AlignedUMAP(n_neighbors=10, random_state=42).fit(warm, relations=[{i: i for i in range(60)}])
    start = time.perf_counter()
    aligned = umap.AlignedUMAP(n_neighbors=settings.n_neighbors, random_state=42).fit(
        [by_epoch[e] for e in order], relations=[{i: i for i in range(len(probe))}] * (len(order) - 1))
    emb = {e: embedding.standardize_embedding(np.asarray(a, dtype=np.float32))
           for e, a in zip(order, aligned.embeddings_)}
    rows.append(("AlignedUMAP", time.perf_counter() - start, emb))
    table = pd.DataFrame([{
        "method": label, "seconds": round(seconds, 1),
        "mean_displacement": round(embedding.mean_displacement(emb), 3),
        "final_silhouette": round(embedding.compute_silhouette(emb[order[-1]], labels), 3),
    } for label, seconds, emb in rows])
    print(f"\n3. alignment, {name}, epochs {order[0]}-{order[-1]}:")
    print(table.to_string(index=False))
    record["alignment"] = table.to_dict("records")

    out = Path("build") / "benchmarks.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(json.dumps(record) + "\n")
    print(f"\nappended to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
