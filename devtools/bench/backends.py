"""Scenario 12 (backends): one face through the model on each backend and precision this machine
runs, in turn, against torch fp32 and against the floor (FLOPs over the matmul rate of the
precision each part runs in)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from restore_core.io import load_image
from restore_core.restore import load_restorer
from restore_core.restore.backends import BACKENDS, cpu_computes_bf16

from .floor import count_flops, floor_seconds
from .machine import matmul_rate
from .report import Row
from .timing import alternate
from .workspace import TWO_FACES

if TYPE_CHECKING:
    from .scenarios import Bench

SCENARIO = "12 model time per face, by backend"
#: (backend, precision) in the order they run; bf16 only on CPUs that compute it natively.
CONTENDERS = (("torch", "fp32"), ("torch", "bf16"), ("openvino", "fp32"), ("openvino", "bf16"), ("onnxruntime", "fp32"))
BASELINE = ("torch", "fp32")
#: Issue 14's targets for what ``auto`` runs on this machine, seconds per face.
TARGETS = {"face": {"gfpgan": 0.35, "codeformer": 0.6}, "decoder": {"codeformer": 0.25}}
CREATIVITY = 0.5


def _contenders() -> list[tuple[str, str]]:
    return [
        (backend, precision)
        for backend, precision in CONTENDERS
        if BACKENDS[backend].available() and (precision != "bf16" or cpu_computes_bf16())
    ]


def _label(contender: tuple[str, str]) -> str:
    return f"{BACKENDS[contender[0]].title} {contender[1]}"


def _precision_of(restorer: Any) -> str:
    """The reduced precision a restorer runs (its decoder's, for a split model), else fp32."""
    return next((p for p in ("bf16", "fp16") if p in restorer.precision), "fp32")


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    a8, b8 = (np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8).astype(np.float64) for x in (a, b))
    mse = float(np.mean((a8 - b8) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def backends(bench: Bench) -> list[Row]:
    engine = bench.engine(load_image(bench.workspace.photo(TWO_FACES)))
    batch = engine.aligned(0).rgb[None]
    contenders = _contenders()
    rates: dict[str, float] = {}

    def rate(precision: str) -> float:
        if precision not in rates:
            rates[precision] = matmul_rate({"fp32": torch.float32, "bf16": torch.bfloat16}[precision])
        return rates[precision]

    rows: list[Row] = []
    for name, title in (("gfpgan", "GFPGAN"), ("codeformer", "CodeFormer")):
        bench.workspace.face_model(name)
        restorers = {
            c: load_restorer(name, bench.device, allow_download=False, backend=BACKENDS[c[0]], precision=c[1])
            for c in contenders
        }
        for restorer in restorers.values():
            restorer.prepare()  # a first use's conversion is not what is timed
        chosen = engine.restorer(name)  # what ``auto`` runs here
        default = (chosen.backend, _precision_of(chosen))
        baseline = restorers[BASELINE]
        flops = count_flops(lambda: baseline.restore(batch, CREATIVITY))
        split = baseline.caches_encoder
        decoder_flops = 0
        if split:
            features = baseline.encode(batch)
            decoder_flops = count_flops(lambda: baseline.decode(features, CREATIVITY))
        reference_faces = baseline.restore(batch, CREATIVITY)

        cases: dict[str, tuple[dict[str, Any], int]] = {}
        creativities = itertools.cycle((0.2, 0.8))
        whole = {_label(c): (lambda r=r: r.restore(batch, CREATIVITY)) for c, r in restorers.items()}
        cases["face"] = (whole, flops)
        if split:
            encoded = {c: r.encode(batch) for c, r in restorers.items()}
            decode = {
                _label(c): (lambda r=r, f=encoded[c]: r.decode(f, next(creativities))) for c, r in restorers.items()
            }
            cases["decoder"] = (decode, decoder_flops)
        for case, (runs, case_flops) in cases.items():
            m = alternate(runs, bench.config.rounds, warmup=bench.config.warmup)
            base = m[_label(BASELINE)].median
            for contender, restorer in restorers.items():
                median = m[_label(contender)].median
                reduced = contender[1]
                if case == "face" and split:  # the encoder half is fp32 whatever the decoder runs in
                    parts = [(flops - decoder_flops, rate("fp32")), (decoder_flops, rate(reduced))]
                else:
                    parts = [(case_flops, rate(reduced))]
                floor = floor_seconds(parts)
                target = TARGETS[case].get(name) if contender == default else None
                agreement = _psnr(restorer.restore(batch, CREATIVITY), reference_faces)
                what = "one 512 px face" if case == "face" else "creativity change (decoder only)"
                rows.append(
                    Row(
                        SCENARIO,
                        f"{title}, {what}: {_label(contender)}" + (" (auto here)" if contender == default else ""),
                        median,
                        base,
                        "s",
                        f"<= {target:g} s" if target is not None else "",
                        median <= target if target is not None else None,
                        note=f"floor {floor:.3f} s ({floor / median:.0%} of it, {case_flops / 1e9:.0f} GFLOP); "
                        f"face {agreement:.1f} dB from torch fp32; reference: torch fp32",
                    )
                )
        del restorers
    return rows
