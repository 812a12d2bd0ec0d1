"""Stages 1 and 2 on a 2-worker Dask LocalCluster beside the local process pool (issue #17).

Usage (by hand, never by CI)::

    .venv/bin/python bench/bench_cluster.py [--oneshots 10000] [--audio_minutes 120]
        [--audio_files 24] [--workers 2] [--separator auto] [--overhead_tasks 2000]
        [--stages roles preprocess overhead] [--work_dir /tmp/drumgenx-bench-cluster]

The issue's sizes are the defaults (the 2-hour set through stage 1, 10,000 one-shots
through stage 2); a quick try: ``--oneshots 1000 --audio_minutes 5 --audio_files 4``.

The inputs are made by `bench_scale.py`'s generators (and kept in ``--work_dir``). Each
(stage, engine) runs in a fresh Python process started here, cold (output emptied), so each
row's peak memory is its own: "main" is that process's ``ru_maxrss``, "worker" the largest
of its worker processes' (``RUSAGE_CHILDREN``: the pool's processes, or the LocalCluster's,
which this process starts through its nannies). Wall time is the API call alone, the pool's
or the cluster's start-up included. Both engines get the same BLAS threads per worker
(`core.engine`), so their outputs are byte-identical; the table says whether they were.

"overhead": the cost of one task on each engine, from ``--overhead_tasks`` tasks of a
function that does nothing, one item per task and 16 per task (stage 2's chunks).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import time
from pathlib import Path

import bench_scale  # the inputs; imports _onecore first (one BLAS thread per process)
from _fresh import run_fresh, stage_main

from drumgenx.core.engine import EngineSettings, map_files

ENGINES = ("local", "dask")


def _peaks() -> dict[str, float]:
    return {
        "main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _digest(folder: Path, pattern: str) -> str:
    """One hash of the files' names and bytes (the outputs the engines must agree on)."""
    h = hashlib.sha256()
    for path in sorted(folder.glob(pattern)):
        h.update(path.name.encode())
        if path.suffix == ".json":  # the run's own time is the one field that may differ
            data = json.loads(path.read_text())
            data.get("summary", {}).pop("seconds", None)
            h.update(json.dumps(data, sort_keys=True).encode())
        else:
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _stage_roles(spec: dict) -> dict:
    from drumgenx.roles.run import run_roles

    started = time.perf_counter()
    result = run_roles(
        input_dir=spec["input"],
        out_dir=spec["out"],
        limit=0,
        workers=spec["workers"],
        engine=spec["engine"],
        clap_model=spec["clap_model"],
    )
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "files": len(result.scores) + len(result.skipped),
        **_peaks(),
        "digest": _digest(Path(spec["out"]), "*.json"),
        "returned_mib": None,
    }


def _stage_preprocess(spec: dict) -> dict:
    from drumgenx.preprocess import run as preprocess_run
    from drumgenx.preprocess.config import PreprocessConfig
    from drumgenx.preprocess.separation import SeparationParams

    returned = [0]  # the slices' bytes that came back to the client
    stage = preprocess_run._stage_slices

    def counted(result, handle):
        returned[0] += sum(piece.audio.nbytes for piece in result.slices)
        return stage(result, handle)

    preprocess_run._stage_slices = counted
    config = PreprocessConfig(separation=SeparationParams(method=spec["separator"]))
    started = time.perf_counter()
    summary = preprocess_run.run_preprocess(
        dataset_root=spec["input"],
        output_root=spec["out"],
        config=config,
        workers=spec["workers"],
        engine=spec["engine"],
    )
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "files": len(summary.reports),
        "audio_s": sum(r.duration_s for r in summary.reports if r.status == "processed"),
        **_peaks(),
        "digest": _digest(Path(spec["out"]), "*.*"),
        "returned_mib": returned[0] / 2**20,
        "samples": len(summary.samples),
        "library_mib": sum(p.stat().st_size for p in summary.samples) / 2**20,
    }


def _no_state() -> None:
    return None


def _nothing(state: None, item: int) -> int:
    return item


def _stage_overhead(spec: dict) -> dict:
    """Seconds per task of a function that does nothing, on each engine: the slope between
    a map of ``tasks`` items and one of a tenth as many, so each map's start-up (a pool's
    processes, a client's connection) cancels out."""
    from distributed import LocalCluster

    big = spec["tasks"]
    small = max(1, big // 10)
    started = time.perf_counter()
    with LocalCluster(n_workers=spec["workers"], threads_per_worker=1) as cluster:
        out = {"cluster_start_s": time.perf_counter() - started}
        engines = {
            "local": EngineSettings("local", workers=spec["workers"]),
            "dask": EngineSettings("dask", cluster.scheduler_address),
        }
        for name, settings in engines.items():
            for chunk in (1, 16):
                seconds = {}
                for n in (small, big):
                    started = time.perf_counter()
                    list(map_files(_nothing, list(range(n)), initializer=_no_state,
                                   settings=settings, chunksize=chunk))  # fmt: skip
                    seconds[n] = time.perf_counter() - started
                out[f"{name}_{chunk}"] = (seconds[big] - seconds[small]) / (big - small)
    return out


STAGES = {"roles": _stage_roles, "preprocess": _stage_preprocess, "overhead": _stage_overhead}


def report(args: argparse.Namespace, results: dict[str, dict]) -> None:
    print()
    print(
        f"# bench_cluster: {platform.processor() or platform.machine()}, {os.cpu_count()} "
        f"cores, {args.workers} workers, separator {args.separator}; load average "
        f"{os.getloadavg()[0]:.2f} at the end"
    )
    print(
        "| stage | engine | files | wall s | files/s | peak RSS main MiB | peak RSS worker MiB "
        "| returned to the client MiB | outputs |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for stage in ("roles", "preprocess"):
        rows = {e: results.get(f"{stage}_{e}") for e in ENGINES}
        digests = {r["digest"] for r in rows.values() if r and "digest" in r}
        for engine, r in rows.items():
            if r is None:
                continue
            if "failed" in r:
                print(f"| {stage} | {engine} | failed: {r['failed']} |||||||")
                continue
            same = "identical" if len(digests) == 1 and len(rows) == 2 else r["digest"]
            returned = "" if r["returned_mib"] is None else f"{r['returned_mib']:.1f}"
            print(
                f"| {stage} | {engine} | {r['files']} | {r['wall_s']:.1f} | "
                f"{r['files'] / r['wall_s']:.1f} | {r['main_mib']:.0f} | {r['worker_mib']:.0f} "
                f"| {returned} | {same} |"
            )
        pre = rows.get("local")
        if stage == "preprocess" and pre and "audio_s" in pre:
            print(
                f"\nstage 1 input: {pre['audio_s'] / 60:.1f} min of audio; library "
                f"{pre['samples']} one-shots, {pre['library_mib']:.1f} MiB on disk"
            )
    overhead = results.get("overhead")
    if overhead and "failed" not in overhead:
        print("\n| engine | ms per task, 1 item | ms per item, 16 per task |")
        print("|---|---|---|")
        for engine in ENGINES:
            print(
                f"| {engine} | {1000 * overhead[f'{engine}_1']:.2f} | "
                f"{1000 * overhead[f'{engine}_16']:.3f} |"
            )
        print(f"\nLocalCluster start ({args.workers} workers): {overhead['cluster_start_s']:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench_scale.add_workload_arguments(
        parser,
        stages=["roles", "preprocess", "overhead"],
        work_dir=Path("/tmp/drumgenx-bench-cluster"),
        workers_help="pool processes; cluster workers",
    )
    parser.add_argument("--overhead_tasks", type=int, default=2000)
    args = parser.parse_args()
    if args._stage is not None:
        return stage_main(args._stage, STAGES)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched; fail fast
    # bench_scale's generators read these too: its defaults for what this bench leaves out
    args.bad_share, args.huge, args.huge_minutes = 0.01, 0, 0.0
    work_dir = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    print(f"work dir {work_dir}; load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    results: dict[str, dict] = {}
    inputs = {
        "roles": lambda: bench_scale.make_library(work_dir / "oneshots", args),
        "preprocess": lambda: bench_scale.make_audio(work_dir / "audio", args),
    }
    folder = {"roles": "oneshots", "preprocess": "audio"}
    for stage in ("roles", "preprocess"):
        if stage not in args.stages:
            continue
        inputs[stage]()
        for engine in ENGINES:
            spec = {
                "input": str(work_dir / folder[stage]),
                "out": str(work_dir / f"out_cluster_{stage}_{engine}"),
                "workers": args.workers,
                "engine": engine,
                "separator": args.separator,
                "clap_model": str(work_dir / "no-such-clap-model"),
            }
            print(f"{stage} on {engine} ...", flush=True)
            label = f"{stage}_{engine}"
            results[label] = run_fresh(__file__, stage, spec, work_dir, label=f"cluster_{label}")
    if "overhead" in args.stages:
        spec = {"workers": args.workers, "tasks": args.overhead_tasks}
        results["overhead"] = run_fresh(
            __file__, "overhead", spec, work_dir, label="cluster_overhead"
        )
    report(args, results)
    return 0 if all("failed" not in r for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
