"""The scenarios of issue 7, each giving rows of the table."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import cv2
import numpy as np
import torch

from restore_core.engine import RenderEngine
from restore_core.io import LoadedImage, load_image
from restore_core.params import DetectionSettings, FaceSettings, GrainSettings, OutputSettings, Settings
from restore_core.pipeline import Pipeline, drive

from . import memory, paste, reference, startup
from .backends import backends
from .batch import folder_batch
from .floor import count_flops, floor_seconds
from .machine import matmul_rate
from .reference import FaceModel
from .report import Row
from .service import service_load
from .timing import alternate
from .workspace import CROWD, TWO_FACES, Workspace, read_bgr

MOBILE = DetectionSettings(detector="retinaface_mobile0.25")
#: Both inference scripts' default output scale, and CodeFormer's default fidelity (w = 0.5).
UPSCALE = 2
CREATIVITY = 0.5
#: The preview canvas: a maximised window on a 1080p screen, less panels and toolbars.
SCREEN = (1600, 1000)


@dataclass(frozen=True)
class Config:
    rounds: int  # timed rounds of the scenarios that run face models
    light_rounds: int  # timed rounds of the cheap ones
    warmup: int
    quick: bool


class Bench:
    """What the scenarios share: the work folder, the reference pipeline, the reference's models."""

    def __init__(self, workspace: Workspace, config: Config, device: torch.device) -> None:
        self.workspace = workspace
        self.config = config
        self.device = device
        self.output = workspace.root / "out"
        self.output.mkdir(parents=True, exist_ok=True)
        self._reference_nets: dict[str, torch.nn.Module] = {}

    @cached_property
    def reference(self) -> reference.ReferencePipeline:
        return reference.ReferencePipeline(self.workspace.reference_models, self.device)

    def reference_model(self, name: str) -> FaceModel:
        """The reference's own fp32 copy of the stand-in model, called as its script calls it."""
        if name not in self._reference_nets:
            net = reference.load_separate_copy(self.workspace.face_model(name)).to(self.device)
            self._reference_nets[name] = net
        net = self._reference_nets[name]
        return reference.gfpgan_model(net) if name == "gfpgan" else reference.codeformer_model(net, 1 - CREATIVITY)

    def engine(self, image: LoadedImage) -> RenderEngine:
        """A render engine on the bench's device holding ``image`` and its detected faces."""
        engine = RenderEngine(device=self.device.type)
        engine.set_image(image)
        engine.detect(MOBILE)
        return engine


def fit_scale(image: LoadedImage) -> float:
    """The preview scale showing the whole photo on ``SCREEN``."""
    return min(1.0, SCREEN[0] / image.width, SCREEN[1] / image.height)


def _fresh_creativities(avoid: tuple[float, ...] = ()) -> Iterator[float]:
    """Creativity values, each new (to 3 decimals, the engine's cache key): every move is a real change."""
    seen = {round(a, 3) for a in avoid}
    for k in itertools.count(1):
        value = round(0.05 + 0.9 * ((k * 0.6180339887) % 1.0), 3)
        if value not in seen:
            seen.add(value)
            yield value


def _with_face(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, face=dataclasses.replace(settings.face, **changes))


def _ms(seconds: float) -> float:
    return 1000 * seconds


# ----- (1) ---------------------------------------------------------------------------------
def whole_process(bench: Bench) -> list[Row]:
    """File to file on the 2-face photo at x2, for GFPGAN and for CodeFormer."""
    source = bench.workspace.photo(TWO_FACES)
    rows = []
    for name, label in (("gfpgan", "GFPGAN"), ("codeformer", "CodeFormer")):
        bench.workspace.face_model(name)
        settings = Settings(
            detection=MOBILE,
            face=FaceSettings(model=name, creativity=CREATIVITY),
            output=OutputSettings(scale=UPSCALE),
            device=bench.device.type,
        )
        pipeline = Pipeline(settings, allow_download=False)
        # Today's path beside it: the torch backend (bf16 on a CPU that computes it).
        on_torch = Pipeline(dataclasses.replace(settings, backend="torch"), allow_download=False)
        model = bench.reference_model(name)
        faces: dict[str, int] = {}

        def ours(pipeline: Pipeline = pipeline, name: str = name) -> None:
            result = drive(pipeline.run(source, bench.output / f"ours_{name}.jpg", overwrite=True))
            faces["ours"] = len(result.faces)

        def torch_path(pipeline: Pipeline = on_torch, name: str = name) -> None:
            drive(pipeline.run(source, bench.output / f"torch_{name}.jpg", overwrite=True))

        def ref(model: reference.FaceModel = model, name: str = name) -> None:
            target = bench.output / f"reference_{name}.jpg"
            faces["reference"] = bench.reference.restore_file(source, target, model, UPSCALE)

        m = alternate(
            {"ours": ours, "torch": torch_path, "reference": ref}, bench.config.rounds, warmup=bench.config.warmup
        )
        ratio = m["ours"].median / m["reference"].median
        backend = pipeline.engine.backend(settings.backend).title
        to_torch = m["ours"].median / m["torch"].median
        rows.append(
            Row(
                "1 whole process, 2-face photo",
                f"{label}, file to file, x{UPSCALE}",
                m["ours"].median,
                m["reference"].median,
                "s",
                "<= 0.8x",
                ratio <= 0.8,
                m["ours"].peak_bytes,
                m["reference"].peak_bytes,
                f"faces: ours {faces['ours']}, reference {faces['reference']}; ours: backend auto ({backend})",
            )
        )
        gfpgan = name == "gfpgan"  # issue 14's target: the 2-face GFPGAN photo in half of torch's time
        rows.append(
            Row(
                "1 whole process, 2-face photo",
                f"{label}, file to file, x{UPSCALE}: backend auto ({backend}) against torch",
                m["ours"].median,
                m["torch"].median,
                "s",
                "<= 0.5x" if gfpgan else "",
                to_torch <= 0.5 if gfpgan else None,
                m["ours"].peak_bytes,
                m["torch"].peak_bytes,
                "reference: the torch backend, the path before issue 14",
            )
        )
    return rows


# ----- (2) ---------------------------------------------------------------------------------
def crowd(bench: Bench) -> list[Row]:
    """Detection, alignment and paste-back of every face in the crowd photo at x2, per face."""
    path = bench.workspace.photo(CROWD)
    image = load_image(path)
    bgr = read_bgr(path)
    engine = RenderEngine(device=bench.device.type)
    # Creativity 0: no pre-conditioning, each aligned face goes back as it came, as in the reference.
    settings = Settings(
        detection=MOBILE, face=FaceSettings(model="passthrough", creativity=0.0), output=OutputSettings(scale=UPSCALE)
    )
    faces: dict[str, int] = {}

    def ours() -> None:
        engine.set_image(image)
        engine.detect(MOBILE)
        engine.render_output(settings)
        faces["ours"] = len(engine.faces)

    def ref() -> None:
        faces["reference"] = bench.reference.restore(bgr, reference.passthrough_model, UPSCALE)[1]

    m = alternate({"ours": ours, "reference": ref}, bench.config.light_rounds, warmup=bench.config.warmup)
    ours_ms = _ms(m["ours"].median) / max(1, faces["ours"])
    ref_ms = _ms(m["reference"].median) / max(1, faces["reference"])
    return [
        Row(
            "2 crowd photo, passthrough, x2",
            "detect + align + paste-back, per face",
            ours_ms,
            ref_ms,
            "ms/face",
            "<= 0.1x",
            ours_ms <= 0.1 * ref_ms,
            m["ours"].peak_bytes,
            m["reference"].peak_bytes,
            f"faces: ours {faces['ours']}, reference {faces['reference']} (640 px only); "
            f"whole run: ours {m['ours'].median:.2f} s, reference {m['reference'].median:.2f} s",
        )
    ]


# ----- (3) ---------------------------------------------------------------------------------
def creativity(bench: Bench) -> list[Row]:
    """A creativity move on one CodeFormer face: the exact face (decoder only) and the preview."""
    bench.workspace.face_model("codeformer")
    image = load_image(bench.workspace.photo(TWO_FACES))
    engine = bench.engine(image)
    scale = fit_scale(image)
    settings = Settings(detection=MOBILE, face=FaceSettings(model="codeformer", creativity=CREATIVITY), faces=(0,))
    engine.render(settings, scale=scale)  # encoder features and one decode cached, as after the first render
    model = bench.reference_model("codeformer")
    face_bgr = cv2.cvtColor(engine.aligned(0).rgb8, cv2.COLOR_RGB2BGR)
    values = _fresh_creativities(avoid=(CREATIVITY, 0.0, 1.0))
    calls: list[int] = []

    def exact() -> None:
        before = engine.model_calls
        engine.render(_with_face(settings, creativity=next(values)), scale=scale)
        calls.append(engine.model_calls - before)

    contenders = {"ours": exact, "reference": lambda: model(face_bgr)}
    m = alternate(contenders, bench.config.rounds, warmup=bench.config.warmup)
    ratio = m["ours"].median / m["reference"].median

    drive(engine.prefetch_steps(settings))  # the GUI's idle-time work: levels 0, 0.5 and 1
    previews: list[bool] = []

    def preview() -> None:
        result = engine.render(_with_face(settings, creativity=next(values)), scale=scale, allow_preview=True)
        previews.append(result.preview)

    p = alternate({"ours": preview}, bench.config.light_rounds, warmup=bench.config.warmup)["ours"]
    return [
        Row(
            "3 creativity change, one face",
            f"exact face: decoder only + compose at fit ({scale:.2f}x)",
            m["ours"].median,
            m["reference"].median,
            "s",
            "<= 0.75x",
            ratio <= 0.75,
            m["ours"].peak_bytes,
            m["reference"].peak_bytes,
            f"reference: a full CodeFormer run on the face; network passes per move: {max(calls)}",
        ),
        Row(
            "3 creativity change, one face",
            "preview answer: nearest pre-rendered level",
            _ms(p.median),
            None,
            "ms",
            "< 100 ms",
            _ms(p.median) < 100,
            p.peak_bytes,
            note=f"all answered as previews: {all(previews)}",
        ),
    ]


# ----- (4) ---------------------------------------------------------------------------------
def slider_update(bench: Bench) -> list[Row]:
    """Strength and grain changes on a 12 MP photo: the preview's compose work (faces cached)."""
    image = load_image(bench.workspace.enlarged(TWO_FACES, 12))
    engine = bench.engine(image)
    scale = fit_scale(image)
    # Passthrough faces: compose costs the same whatever model made them.
    base = Settings(detection=MOBILE, face=FaceSettings(model="passthrough"))
    engine.render(base, scale=scale)
    x0, y0, x1, y1 = engine.faces[0].box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    vx0 = int(np.clip(cx - SCREEN[0] / 2, 0, image.width - SCREEN[0]))
    vy0 = int(np.clip(cy - SCREEN[1] / 2, 0, image.height - SCREEN[1]))
    viewport = (vx0, vy0, vx0 + SCREEN[0], vy0 + SCREEN[1])
    strengths = itertools.cycle((0.8, 0.9))
    grains = itertools.cycle((0.4, 0.6))

    def strength(**view: Any) -> Callable[[], object]:
        return lambda: engine.render(_with_face(base, strength=next(strengths)), **view)

    seeds = itertools.count(1)

    def grain(scope: str, new_grain: bool = False, **view: Any) -> Callable[[], object]:
        def run() -> object:
            # A strength move reuses the grain made before; a new seed (or size) makes it anew.
            changed = {"seed": next(seeds)} if new_grain else {"strength": next(grains)}
            grain = GrainSettings(enabled=True, scope=scope, **changed)
            return engine.render(dataclasses.replace(base, grain=grain), **view)

        return run

    fit: dict[str, Any] = {"scale": scale}
    hundred: dict[str, Any] = {"region": viewport, "scale": 1.0}
    cases = {
        f"strength, whole photo fit to screen ({scale:.2f}x)": (strength(**fit), True),
        "strength, 1600 x 1000 viewport at 100%": (strength(**hundred), True),
        "strength, whole photo at 100% (12 MP)": (strength(scale=1.0), False),
        f"grain strength on faces, fit to screen ({scale:.2f}x)": (grain("faces", **fit), True),
        f"grain strength on the whole image, fit to screen ({scale:.2f}x)": (grain("image", **fit), True),
        "grain strength on the whole image, viewport at 100%": (grain("image", **hundred), True),
        f"new grain seed on the whole image, fit to screen ({scale:.2f}x)": (grain("image", True, **fit), True),
        "new grain seed on the whole image, viewport at 100%": (grain("image", True, **hundred), True),
    }
    # Each case on its own, as in the GUI: the slider moves again and again over one view.
    m = {
        name: alternate({name: run}, bench.config.light_rounds, warmup=bench.config.warmup)[name]
        for name, (run, _) in cases.items()
    }
    return [
        Row(
            "4 slider change, 12 MP photo",
            name,
            _ms(m[name].median),
            None,
            "ms",
            "< 50 ms" if targeted else "",
            _ms(m[name].median) < 50 if targeted else None,
            m[name].peak_bytes,
            note=f"{image.width} x {image.height}, {len(engine.faces)} faces",
        )
        for name, (_, targeted) in cases.items()
    ]


# ----- (5) ---------------------------------------------------------------------------------
def detection(bench: Bench) -> list[Row]:
    path = bench.workspace.enlarged(TWO_FACES, 24)
    image = load_image(path)
    bgr = read_bgr(path)
    engine = RenderEngine(device=bench.device.type)
    faces: dict[str, int] = {}

    def ours() -> None:
        engine.set_image(image)  # forgets earlier detections
        faces["ours"] = len(engine.detect(MOBILE))

    def ref() -> None:
        faces["reference"] = bench.reference.detect(bgr)

    m = alternate({"ours": ours, "reference": ref}, bench.config.light_rounds, warmup=bench.config.warmup)
    return [
        Row(
            "5 detection, 24 MP photo",
            f"RetinaFace mobile0.25, {image.width} x {image.height}",
            m["ours"].median,
            m["reference"].median,
            "s",
            "< 1.5 s",
            m["ours"].median < 1.5,
            m["ours"].peak_bytes,
            m["reference"].peak_bytes,
            f"ours: 640 px + tiles up to 4 MP; reference: 640 px only; faces: ours {faces['ours']}, "
            f"reference {faces['reference']}",
        )
    ]


# ----- (6) ---------------------------------------------------------------------------------
def peak_memory(bench: Bench) -> list[Row]:
    """24 MP in, 96 MP out, file to file, each side in its own process."""
    source = bench.workspace.enlarged(TWO_FACES, 24)
    model = "passthrough" if bench.config.quick else "gfpgan"
    model_file = None if model == "passthrough" else bench.workspace.face_model(model)
    results = {}
    for side in ("ours",) if bench.config.quick else ("ours", "reference"):
        results[side] = memory.probe(
            side,
            source,
            bench.output / f"memory_{side}.jpg",
            scale=UPSCALE,
            model=model,
            model_file=model_file,
            reference_root=bench.workspace.reference_models,
            device=bench.device.type,
        )
    gb = {side: None if r.peak_bytes is None else r.peak_bytes / 2**30 for side, r in results.items()}
    ours_gb = gb["ours"]
    return [
        Row(
            "6 peak memory, 24 MP in / 96 MP out",
            f"whole process, {model}, child process peak RSS",
            ours_gb,
            gb.get("reference"),
            "GB",
            "< 3 GB",
            None if ours_gb is None else ours_gb < 3,
            note="; ".join(f"{side}: {r.seconds:.1f} s, {r.faces} faces" for side, r in results.items()),
        )
    ]


# ----- (7) ---------------------------------------------------------------------------------
def app_start(bench: Bench) -> list[Row]:
    if not startup.app_available():
        return []
    times = [startup.time_to_window() for _ in range(bench.config.light_rounds)]
    median = float(np.median(times))
    return [
        Row(
            "7 app start to window shown",
            "new process to MainWindow shown (offscreen)",
            median,
            None,
            "s",
            "< 1.5 s",
            median < 1.5,
            note=f"{len(times)} starts; torch loads in the worker after the window shows",
        )
    ]


# ----- (8) ---------------------------------------------------------------------------------
def model_floor(bench: Bench) -> list[Row]:
    """Per-face model time against FLOPs / the machine's matmul rate, ours and the reference's."""
    image = load_image(bench.workspace.photo(TWO_FACES))
    engine = bench.engine(image)
    face = engine.aligned(0)
    batch = face.rgb[None]
    face_bgr = cv2.cvtColor(face.rgb8, cv2.COLOR_RGB2BGR)
    rates: dict[torch.dtype, float] = {}

    def rate(dtype: torch.dtype) -> float:
        if dtype not in rates:
            rates[dtype] = matmul_rate(dtype)
        return rates[dtype]

    rows = []
    for name, label in (("gfpgan", "GFPGAN"), ("codeformer", "CodeFormer")):
        bench.workspace.face_model(name)
        restorer = engine.restorer(name, "torch")  # torch's floor (scenario 12: every backend's)
        model = bench.reference_model(name)
        flops = count_flops(lambda: model(face_bgr))
        if restorer.input_dtype != restorer.dtype:  # CodeFormer: float32 encoder half, reduced decoder
            features = restorer.encode(batch)
            decoder_flops = count_flops(lambda: restorer.decode(features, CREATIVITY))
            parts = [(flops - decoder_flops, rate(restorer.input_dtype)), (decoder_flops, rate(restorer.dtype))]
        else:
            parts = [(flops, rate(restorer.dtype))]
        precision = " + ".join(sorted({str(d).removeprefix("torch.") for d in (restorer.input_dtype, restorer.dtype)}))
        m = alternate(
            {"ours": lambda: restorer.restore(batch, CREATIVITY), "reference": lambda: model(face_bgr)},
            bench.config.rounds,
            warmup=bench.config.warmup,
        )
        ours_share = floor_seconds(parts) / m["ours"].median
        ref_share = floor_seconds([(flops, rate(torch.float32))]) / m["reference"].median
        rows.append(
            Row(
                "8 model time per face vs floor",
                f"{label}, one 512 px face",
                m["ours"].median,
                m["reference"].median,
                "s",
                note=f"{flops / 1e9:.0f} GFLOP; ours ({precision}) at {ours_share:.0%} of the matmul rate, "
                f"reference (float32) at {ref_share:.0%}; matmul "
                + ", ".join(f"{str(d).removeprefix('torch.')} {r / 1e9:.0f} GFLOP/s" for d, r in rates.items()),
            )
        )
    return rows


# ----- (9) ---------------------------------------------------------------------------------
def paste_back(bench: Bench) -> list[Row]:
    """Paste-back alone, per face: a crowd on a 24 MP canvas should cost what one face costs."""
    image = paste.synthetic_canvas()
    rows = []
    for label, warps in paste.paste_cases(np.random.default_rng(0)).items():
        plain = paste.per_face_ms(paste.paste_all(image, warps, None), len(warps), bench.config.light_rounds)
        grainy = paste.per_face_ms(paste.paste_all(image, warps, paste.SILVER), len(warps), bench.config.light_rounds)
        rows.append(
            Row(
                "9 paste-back per face, 24 MP canvas",
                label,
                plain,
                None,
                "ms/face",
                note=f"with silver grain: {grainy:.2f} ms/face",
            )
        )
    return rows


SCENARIOS: dict[str, Callable[[Bench], list[Row]]] = {
    "whole": whole_process,
    "crowd": crowd,
    "creativity": creativity,
    "slider": slider_update,
    "detect": detection,
    "memory": peak_memory,
    "startup": app_start,
    "floor": model_floor,
    "paste": paste_back,
    "service": service_load,
    "batch": folder_batch,
    "backends": backends,
}

ABOUT = f"""\
1. **whole**: `two_children_film.jpg` (1297 x 1920, 2 faces) file to file at x{UPSCALE}, GFPGAN and
   CodeFormer (w = {1 - CREATIVITY}). Ours: `Pipeline.run` (decode, multi-scale detection, align, model,
   colour match, paste-back, Lanczos background, encode). Reference: `cv2.imread`,
   `FaceRestoreHelper` (detect at 640 px, align, model per face, `paste_faces_to_input_image`),
   `cv2.imwrite`. Models and detector loaded beforehand on both sides.
2. **crowd**: `crowd_selfie.jpg` at x{UPSCALE} with the passthrough model (no network, creativity 0
   so no pre-conditioning): detection, alignment, colour match, paste-back and the background
   upscale, divided by the faces each side found.
3. **creativity**: one CodeFormer face, creativity moved to a new value. Exact: the engine re-runs
   the decoder only (encoder features cached) and composes the preview at fit-to-screen scale;
   reference: a full CodeFormer run on the face. Preview: after the idle-time pre-render of
   creativity 0, 0.5 and 1, the answer shown at once from the nearest level.
4. **slider**: a 12 MP copy of the 2-face photo, faces cached; strength or grain moved. The GUI
   renders its visible viewport: the whole photo fit to a {SCREEN[0]} x {SCREEN[1]} canvas, or a
   {SCREEN[0]} x {SCREEN[1]} viewport at 100%; the full 12 MP render is shown for comparison. A grain
   strength move reuses the grain made for the view; a new seed (or size, density) makes it anew.
5. **detect**: a 24 MP copy of the 2-face photo; ours runs a 640 px pass and full-resolution tiles
   (up to 4 MP); the reference one 640 px pass (short side), as CodeFormer's script.
6. **memory**: 24 MP in, 96 MP out (x2) with GFPGAN, file to file, each side in a fresh process;
   peak resident memory from `getrusage`.
7. **startup**: a new Python process creating the QApplication and `MainWindow`, showing it
   (offscreen), until its first event-loop turn.
8. **floor**: one face through the model alone; FLOPs counted by `torch.utils.flop_counter`,
   divided by the best 2048-wide matrix product rate (torch.matmul or a oneDNN 1 x 1 convolution)
   of the dtype each part runs in (ours on a CPU with bf16 arithmetic: GFPGAN in bf16, CodeFormer's
   encoder half in fp32 and its decoder in bf16; the reference in fp32).
9. **paste**: `compose.paste_face` alone on a 6000 x 4000 canvas (moved from `benchmarks/compose_paste.py`).
10. **service**: `facemend-server` in a thread on 127.0.0.1 with the passthrough model: `collage_two_faces.jpg`
   (2 faces) posted to the enhance-faces API by 4 clients at once, each reading the job's event stream
   to `complete`, against the same jobs through `Pipeline.run` in-process; then one job at a time,
   the time from the request to its first progress event.
11. **batch**: a folder of copies of the 2-face photo restored with GFPGAN by `restore_core.batch`: in
   this process (torch on every core), and on a local Ray runtime with 1 and 2 actors of one core each;
   photos per minute in the steady state
   (after each worker's first photo, which loads the models). Driver per file: the batch's own cost
   per file (manifest line written and synced, outputs renamed into place) with workers that return
   at once; Ray round trip: files that fail at once, so all that is left is Ray and the driver.
   Scaling: a cluster restores about (number of actors) x (one actor's photos per minute: the
   "1 actor" row per core of this CPU; on a GPU its model time per face), as long as the driver keeps up
   (60,000 / its milliseconds per file, in photos per minute) and the storage carries each photo's
   bytes once in and its outputs once out. The 2-actor row against 2 x the 1-actor row is how
   close this machine comes to that line (both actors share its memory bandwidth).

12. **backends**: one aligned face of the 2-face photo through the model alone on every backend and
   precision this machine runs (torch fp32 and bf16, OpenVINO fp32 and bf16, ONNX Runtime fp32; bf16
   only on CPUs with bf16 arithmetic), in turn, round after round, against torch fp32; CodeFormer also
   with the creativity moved (its decoder only, encoder features cached). Conversions happen before
   the timing. Floor: FLOPs (counted on torch fp32) over the matmul rate of each part's precision.
   The row marked "auto here" is what `--backend auto` runs on this machine, with issue 14's target.

The face models are random-initialised GFPGAN v1.4 and CodeFormer of the published
architectures (`devtools/stand_in_models.py`): the same compute as the published weights."""
