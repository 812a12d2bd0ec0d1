"""Run one measurement in a fresh interpreter, so its peak memory (RSS) is its own.

The parent writes the measurement's spec as JSON and runs ``SCRIPT --_stage SPEC``; the child
(`stage_main`) runs the named stage and writes its result beside the spec.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path


def run_fresh(script: str | Path, stage: str, spec: dict, work_dir: Path, *, label: str) -> dict:
    """``stage``'s result dict from a fresh ``script`` process, or ``{"failed": why}``.

    ``spec["out"]``, when given, is removed first: every measurement starts cold (no feature
    cache, no earlier library). ``label`` names the spec and result files in ``work_dir``.
    """
    if "out" in spec:
        shutil.rmtree(spec["out"], ignore_errors=True)
    spec_path = work_dir / f"{label}.spec.json"
    result_path = _result_path(spec_path)
    result_path.unlink(missing_ok=True)
    spec_path.write_text(json.dumps({**spec, "stage": stage}), encoding="utf-8")
    command = [sys.executable, str(Path(script).resolve()), "--_stage", str(spec_path)]
    code = subprocess.run(command, check=False).returncode
    if code != 0 or not result_path.is_file():
        return {"failed": f"exit status {code}"}
    return json.loads(result_path.read_text(encoding="utf-8"))


def stage_main(spec_path: Path, stages: Mapping[str, Callable[[dict], dict]]) -> int:
    """The child's side: run the spec's stage and write its result where `run_fresh` reads."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    result = stages[spec["stage"]](spec)
    _result_path(spec_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


def _result_path(spec_path: Path) -> Path:
    return spec_path.with_name(spec_path.name.replace(".spec.json", ".result.json"))
