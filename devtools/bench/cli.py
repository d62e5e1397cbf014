"""``python -m devtools.bench``: run the scenarios, print the table, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .workspace import DEFAULT_TESTDATA, REPO, BenchSetupError

DEFAULT_OUTPUT = REPO / "docs" / "benchmarks.md"
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "facemend-bench"


def parse_args(argv: list[str]) -> argparse.Namespace:
    from .scenarios import SCENARIOS

    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one timed round each, small memory probe: a smoke run")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, from: {', '.join(SCENARIOS)} (default: all)"
    )
    parser.add_argument("--rounds", type=int, help="timed rounds of the model scenarios (default 3, quick 1)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help=f"the Markdown table (default {DEFAULT_OUTPUT})"
    )
    parser.add_argument(
        "--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="generated models and photos, kept for later runs"
    )
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA, help="the shared test data folder")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scenarios.split(",")) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    from restore_core.models import select_device

    from .machine import describe_machine, load_average
    from .report import text_table, write_markdown
    from .scenarios import ABOUT, SCENARIOS, Bench, Config
    from .workspace import open_workspace

    try:
        workspace = open_workspace(args.work_dir, args.testdata)
    except BenchSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rounds = args.rounds or (1 if args.quick else 3)
    config = Config(rounds=rounds, light_rounds=2 if args.quick else max(rounds, 7), warmup=1, quick=args.quick)
    device = select_device(args.device)
    started = time.perf_counter()
    machine = describe_machine(device)
    print("\n".join(machine.lines()), flush=True)
    bench = Bench(workspace, config, device)
    rows, failed = [], []
    for name in args.scenarios.split(","):
        print(f"-- {name}", flush=True)
        try:
            scenario_rows = SCENARIOS[name](bench)
        except Exception:  # noqa: BLE001 - one broken scenario must not lose the others' numbers
            traceback.print_exc()
            failed.append(name)
            continue
        print(text_table(scenario_rows) if scenario_rows else "(not available here)", flush=True)
        rows.extend(scenario_rows)
    command = " ".join(["python -m devtools.bench", *argv])
    minutes = (time.perf_counter() - started) / 60
    about = ABOUT + (f"\n\n**Failed in this run** (see its output): {', '.join(failed)}." if failed else "")
    write_markdown(args.output, rows, machine, command, load_at_end=load_average(), minutes=minutes, about=about)
    print(f"\n{text_table(rows)}\n\nwritten to {args.output} in {minutes:.1f} minutes")
    if failed:
        print(f"error: scenario(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
