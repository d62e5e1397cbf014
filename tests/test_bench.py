"""The benchmark command runs a small configuration end to end and writes its table (no timing checks)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import SHARED

from devtools.bench.cli import main


def _rows(markdown: str, scenario: str) -> list[list[str]]:
    """Table rows of ``scenario``, as lists of cell texts."""
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith(f"| {scenario} |")
    ]


def test_quick_bench_writes_a_table_with_both_pipelines(tmp_path: Path) -> None:
    output = tmp_path / "docs" / "benchmarks.md"
    args = ["--quick", "--scenarios", "detect,paste", "--device", "cpu", "--output", str(output)]
    code = main([*args, "--work-dir", str(tmp_path / "work"), "--testdata", str(SHARED)])

    assert code == 0
    text = output.read_text(encoding="utf-8")
    assert "python -m devtools.bench --quick --scenarios detect,paste" in text
    assert re.search(r"^- CPU: .+, \d+ cores, torch threads \d+$", text, re.MULTILINE)
    assert re.search(r"fp32 matmul: \d+ GFLOP/s", text)

    (detect,) = _rows(text, "5 detection, 24 MP photo")
    _scenario, case, ours, reference, ratio, target, status, _memory, note = detect
    assert case.endswith("4026 x 5961")  # the 24 MP copy of the 2-face photo the bench made
    assert re.fullmatch(r"\d+\.\d+ s", ours) and re.fullmatch(r"\d+\.\d+ s", reference)
    assert re.fullmatch(r"\d+\.\d\dx", ratio)
    assert target == "< 1.5 s" and status in ("met", "**missed**")
    assert "faces: ours 2, reference 2" in note  # both pipelines found the two children
    assert (tmp_path / "work" / "photos" / "two_children_film_24mp.jpg").is_file()

    paste = _rows(text, "9 paste-back per face, 24 MP canvas")
    assert [row[1] for row in paste] == ["1 face, 30 px", "300 faces, 20-40 px", "1 face, 400 px", "1 face, 1500 px"]
    assert all(re.fullmatch(r"\d+(\.\d+)? ms/face", row[2]) for row in paste)


def test_the_service_scenario_loads_a_real_server_and_reports_its_rates(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"
    args = ["--quick", "--scenarios", "service", "--device", "cpu", "--output", str(output)]
    assert main([*args, "--work-dir", str(tmp_path / "work"), "--testdata", str(SHARED)]) == 0
    rate, latency = _rows(output.read_text(encoding="utf-8"), "10 HTTP service, passthrough")
    assert rate[1] == "2 jobs from 2 clients: jobs per second (upload, SSE to complete)"
    assert re.fullmatch(r"\d+(\.\d+)? jobs/s", rate[2]) and re.fullmatch(r"\d+(\.\d+)? jobs/s", rate[3])
    assert latency[1] == "idle server: request to first progress event"
    assert re.fullmatch(r"\d+(\.\d+)? ms", latency[2]) and re.match(r"202 answered after \d+\.\d ms", latency[8])
    jobs = tmp_path / "work" / "server-data" / "jobs"
    assert len(list(jobs.iterdir())) == 2 * 3 + 2  # warm-up, timed and memory rounds of 2 jobs; 2 on an idle server


def test_unknown_scenarios_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--scenarios", "detect,nonsense", "--output", str(tmp_path / "out.md")])
    assert exit_.value.code == 2
    assert "nonsense" in capsys.readouterr().err
    assert not (tmp_path / "out.md").exists()


def test_a_failing_scenario_is_named_and_the_others_keep_their_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from devtools.bench import scenarios

    def broken(bench: object) -> list:
        raise RuntimeError("a scenario that breaks")

    monkeypatch.setitem(scenarios.SCENARIOS, "detect", broken)
    output = tmp_path / "benchmarks.md"
    args = ["--quick", "--scenarios", "detect,startup", "--device", "cpu", "--output", str(output)]
    assert main([*args, "--work-dir", str(tmp_path / "work"), "--testdata", str(SHARED)]) == 1
    text = output.read_text(encoding="utf-8")
    # the app start-up probe (a child process opening the real window) ran and was timed
    (startup,) = _rows(text, "7 app start to window shown")
    assert re.fullmatch(r"\d+\.\d+ s", startup[2]), startup
    assert "**Failed in this run** (see its output): detect." in text
    err = capsys.readouterr().err
    assert "a scenario that breaks" in err and "scenario(s) failed: detect" in err
