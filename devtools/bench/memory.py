"""Peak memory of one whole restoration, file to file, in a fresh child process.

``python -m devtools.bench.memory ours|reference SOURCE TARGET --scale S --model M ...``
runs one pipeline once and prints a JSON line: the process's peak resident memory (from
``resource.getrusage``: everything, torch's buffers and the model weights included) and the
seconds the restoration took. The parent runs it in a subprocess so that nothing the bench
itself holds counts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProbeResult:
    peak_bytes: int | None
    seconds: float
    faces: int


def _peak_rss_bytes() -> int | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def probe(
    side: str,
    source: Path,
    target: Path,
    *,
    scale: int,
    model: str,
    model_file: Path | None,
    reference_root: Path,
    device: str,
) -> ProbeResult:
    """Run ``python -m devtools.bench.memory`` for ``side`` and read its result."""
    command = [sys.executable, "-m", __name__, side, str(source), str(target), "--scale", str(scale), "--model", model]
    command += ["--device", device]
    if model_file is not None:
        command += ["--model-file", str(model_file)]
    command += ["--reference-root", str(reference_root)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe ({side}) failed:\n{done.stderr[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return ProbeResult(data["peak_bytes"], data["seconds"], data["faces"])


def _run_ours(source: Path, target: Path, scale: int, model: str, device: str) -> int:
    from restore_core.params import DetectionSettings, FaceSettings, OutputSettings, Settings
    from restore_core.pipeline import Pipeline, drive

    settings = Settings(
        detection=DetectionSettings(detector="retinaface_mobile0.25"),
        face=FaceSettings(model=model),
        output=OutputSettings(scale=scale),
        device=device,
    )
    result = drive(Pipeline(settings, allow_download=False).run(source, target, overwrite=True))
    return len(result.faces)


def _run_reference(
    source: Path, target: Path, scale: int, model: str, model_file: Path | None, root: Path, device: str
) -> int:
    from restore_core.models import select_device

    from . import reference

    torch_device = select_device(device)
    face_model: reference.FaceModel
    if model == "passthrough":
        face_model = reference.passthrough_model
    else:
        assert model_file is not None
        net = reference.load_separate_copy(model_file).to(torch_device)
        face_model = reference.gfpgan_model(net) if model == "gfpgan" else reference.codeformer_model(net, 0.5)
    return reference.ReferencePipeline(root, torch_device).restore_file(source, target, face_model, scale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.memory")
    parser.add_argument("side", choices=("ours", "reference"))
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--model", default="passthrough", choices=("passthrough", "gfpgan", "codeformer"))
    parser.add_argument("--model-file", type=Path, help="the face model's weights (reference side)")
    parser.add_argument("--reference-root", type=Path, help="facexlib's model_rootpath (reference side)")
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.side == "ours":
        faces = _run_ours(args.source, args.target, args.scale, args.model, args.device)
    else:
        faces = _run_reference(
            args.source, args.target, args.scale, args.model, args.model_file, args.reference_root, args.device
        )
    seconds = time.perf_counter() - start
    print(json.dumps({"peak_bytes": _peak_rss_bytes(), "seconds": seconds, "faces": faces}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
