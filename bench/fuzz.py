"""Fuzz the wire's verifier and parsers for longer than the suite does.

The targets are the suite's (tests/srs/wire/fuzz_targets.py): for any input a reader
gets a valid payload model or a WireError, never another exception, and a mutated
valid token is never accepted as something else. Each target runs for ``--seconds``
in a child process under one engine:

* ``atheris`` (default when installed: ``pip install atheris``, the ``fuzz`` extra):
  coverage-guided libFuzzer over the byte targets, SRS's modules instrumented. A
  finding stops that target; its input is saved under ``--artifacts`` and the
  traceback printed.
* ``hypothesis``: the suite's hypothesis tests driven by ``fuzz_one_input`` with
  random buffers (no coverage guidance; structured JSON inputs), where atheris is
  not installable.

Prints, per target, executions, executions/s and findings. Asserts nothing.

    .venv/bin/python bench/fuzz.py [--seconds 60] [--engine atheris|hypothesis]
                                   [--target token ...] [--artifacts DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The suite's hypothesis tests usable as a fuzz_one_input engine: name -> test name.
HYPOTHESIS_TESTS = {
    "token": "test_signing_fuzz.test_arbitrary_bytes_as_a_token",
    "signed_body": "test_signing_fuzz.test_arbitrary_bytes_signed_as_the_payload",
    "signed_json": "test_signing_fuzz.test_arbitrary_json_signed_as_the_claims",
    "signed_data": "test_signing_fuzz.test_right_claims_and_arbitrary_json_as_data",
    "mutated_token": "test_signing_fuzz.test_a_mutated_valid_token",
    "mutated_body": "test_signing_fuzz.test_a_mutated_valid_payload_signed_again",
    "unverified": "test_reading_fuzz.test_unverified_data_of_arbitrary_bytes",
    "unverified_signed": "test_reading_fuzz.test_unverified_data_of_a_token_with_any_payload",
}


def _atheris_child(target: str, seconds: int, artifacts: Path) -> None:
    import atheris

    with atheris.instrument_imports(include=["srs", "tests.srs.wire"]):
        from tests.srs.wire import fuzz_targets
    check = fuzz_targets.BYTE_TARGETS[target]
    flags = [
        f"-max_total_time={seconds}",
        "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/{target}-",
        "-max_len=4096",
    ]
    atheris.Setup([sys.argv[0], *flags], check)
    atheris.Fuzz()


def _hypothesis_child(target: str, seconds: int, artifacts: Path) -> None:
    module_name, test_name = HYPOTHESIS_TESTS[target].split(".")
    module = importlib.import_module(f"tests.srs.wire.{module_name}")
    fuzz_one_input: Any = getattr(module, test_name).hypothesis.fuzz_one_input
    runs = findings = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        buffer = os.urandom(int.from_bytes(os.urandom(2), "big") % 4096)
        runs += 1
        try:
            fuzz_one_input(buffer)
        except Exception as exc:  # noqa: BLE001 - any exception is a finding
            findings += 1
            path = artifacts / f"{target}-{findings}.bin"
            path.write_bytes(buffer)
            print(f"FINDING {type(exc).__name__}: {exc} (buffer in {path})", file=sys.stderr)
    print(f"stat::number_of_executed_units: {runs}", file=sys.stderr)
    print(f"stat::findings: {findings}", file=sys.stderr)


def _run(engine: str, target: str, seconds: int, artifacts: Path) -> dict[str, Any]:
    started = time.monotonic()
    cmd = [sys.executable, __file__, "--child", target, "--engine", engine]
    cmd += ["--seconds", str(seconds), "--artifacts", str(artifacts)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=seconds * 3 + 120, check=False
    )
    elapsed = time.monotonic() - started
    err = done.stdout + done.stderr  # atheris prints the exception on stdout
    runs = re.findall(r"stat::number_of_executed_units: (\d+)", err)
    executed = int(runs[-1]) if runs else 0
    cov = re.findall(r"cov: (\d+)", err)
    crashed = "Uncaught Python exception" in err or "FINDING" in err or done.returncode not in (0,)
    excerpt = ""
    if crashed:
        lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("INFO:")]
        start = next((i for i, ln in enumerate(lines) if "Uncaught" in ln or "FINDING" in ln), 0)
        kept = lines[start : start + 20]
        ends = ("WARNING", "#", "==")  # libFuzzer's own lines after the traceback
        kept = kept[: next((i for i, ln in enumerate(kept) if ln.startswith(ends)), len(kept))]
        kept += [ln for ln in lines if "Test unit written" in ln]
        excerpt = "\n".join(kept)
    return {
        "target": target,
        "executed": executed,
        "per_s": executed / max(1e-9, min(elapsed, seconds)),
        "coverage": int(cov[-1]) if cov else None,
        "findings": (1 if engine == "atheris" else len(re.findall("FINDING", err)))
        if crashed
        else 0,
        "excerpt": excerpt,
        "rc": done.returncode,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    has_atheris = importlib.util.find_spec("atheris") is not None
    ap.add_argument("--seconds", type=int, default=60, help="per target")
    ap.add_argument(
        "--engine",
        choices=("atheris", "hypothesis"),
        default="atheris" if has_atheris else "hypothesis",
    )
    ap.add_argument("--target", action="append", help="a target name (default: all)")
    ap.add_argument("--artifacts", type=Path, help="where findings are saved (default: tmp)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child = _atheris_child if args.engine == "atheris" else _hypothesis_child
        child(args.child, args.seconds, args.artifacts)
        return 0
    if args.engine == "atheris" and not has_atheris:
        print("atheris is not installed (pip install atheris): use --engine hypothesis")
        return 2
    from tests.srs.wire.fuzz_targets import BYTE_TARGETS

    names = list(BYTE_TARGETS if args.engine == "atheris" else HYPOTHESIS_TESTS)
    chosen = args.target or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        print(f"unknown target(s) for {args.engine}: {', '.join(unknown)}; known: {names}")
        return 2
    artifacts = args.artifacts or Path(tempfile.mkdtemp(prefix="srs-fuzz-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    print(f"engine {args.engine}, {args.seconds} s per target, findings saved in {artifacts}")
    total = 0
    for name in chosen:
        got = _run(args.engine, name, args.seconds, artifacts)
        cov = f"  coverage {got['coverage']}" if got["coverage"] is not None else ""
        print(
            f"  {name:18s} {got['executed']:>9,d} executions  {got['per_s']:>8,.0f}/s"
            f"{cov}  findings {got['findings']}"
        )
        if got["excerpt"]:
            print("    " + got["excerpt"].replace("\n", "\n    "))
        total += got["findings"]
    print(f"findings in all: {total}  (shared machine: executions/s are noisy)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
