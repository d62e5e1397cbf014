"""The models Facemend knows: where each comes from, its exact size and hash, its licence.

A frozen ``ModelSpec`` per file; ``MODELS`` maps the short name used on the command line
and in the GUI to its spec. Hashes and sizes are the published files' (see DESIGN.md; where
an entry is not in DESIGN.md, a comment names the public manifests its hash comes from).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ModelKind = Literal["face", "detector", "parsing", "identity", "upscaler"]
#: What a face model's prior is good at, for ``auto``: "detail" keeps more of the person's own
#: detail where there is detail to keep (GFPGAN); "codebook" models rebuild a face from a learned
#: dictionary of face parts, and cope best with tiny or very blurred faces (CodeFormer, RestoreFormer).
FacePrior = Literal["detail", "codebook"]


@dataclass(frozen=True)
class ModelSpec:
    name: str  # short name: CLI and GUI
    kind: ModelKind
    filename: str
    repo: str  # GitHub owner/name that publishes the release
    tag: str
    sha256: str
    size: int | None  # bytes; None where only an approximate size is published
    licence: str
    title: str
    #: licence terms the user must accept before download (non-commercial, ...)
    licence_notice: str | None = None
    approx_size: int | None = None  # shown when ``size`` is unknown
    prior: FacePrior | None = None  # face models only
    #: spandrel's architecture id (face models): a licence covers every file of it
    architecture: str | None = None

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repo}/releases/download/{self.tag}/{self.filename}"

    @property
    def display_size(self) -> int:
        return self.size or self.approx_size or 0


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="gfpgan",
            kind="face",
            filename="GFPGANv1.4.pth",
            repo="TencentARC/GFPGAN",
            tag="v1.3.0",
            sha256="e2cd4703ab14f4d01fd1383a8a8b266f9a5833dacee8e6a79d3bf21a1b6be5ad",
            size=348_632_874,
            licence="Apache-2.0",
            title="GFPGAN v1.4",
            prior="detail",
            architecture="GFPGAN",
        ),
        ModelSpec(
            name="codeformer",
            kind="face",
            filename="codeformer.pth",
            repo="sczhou/CodeFormer",
            tag="v0.1.0",
            sha256="1009e537e0c2a07d4cabce6355f53cb66767cd4b4297ec7a4a64ca4b8a5684b7",
            size=376_637_898,
            licence="S-Lab License 1.0",
            title="CodeFormer",
            prior="codebook",
            architecture="CodeFormer",
            licence_notice=(
                "CodeFormer is released under the S-Lab License 1.0: free for non-commercial use only. "
                "Commercial use needs permission from its authors."
            ),
        ),
        # sha256 as listed by Sygil-Dev/sygil-webui (entrypoint.sh, MODEL_FILES) and other public
        # download scripts for this release asset; 348,632,874 bytes as published for it (the same
        # architecture as v1.4, saved the same way).
        ModelSpec(
            name="gfpgan_v1.3",
            kind="face",
            filename="GFPGANv1.3.pth",
            repo="TencentARC/GFPGAN",
            tag="v1.3.0",
            sha256="c953a88f2727c85c3d9ae72e2bd4846bbaf59fe6972ad94130e23e7017524a70",
            size=348_632_874,
            licence="Apache-2.0",
            title="GFPGAN v1.3 (more natural, less sharp than v1.4)",
            prior="detail",
            architecture="GFPGAN",
        ),
        # sha256 as the AUR's python-gfpgan 1.3.8 PKGBUILD (archlinux/aur) pins this release asset,
        # and other public manifests with it; 290,785,322 bytes as they list it. spandrel loads it
        # (its RestoreFormer architecture is tested on this very file).
        ModelSpec(
            name="restoreformer",
            kind="face",
            filename="RestoreFormer.pth",
            repo="TencentARC/GFPGAN",
            tag="v1.3.4",
            sha256="07404d446d62ca3d5ed38b1de09a947a1e77d46dbccec961a74d713a8f24ace0",
            size=290_785_322,
            licence="Apache-2.0",
            title="RestoreFormer",
            prior="codebook",
            architecture="RestoreFormer",
        ),
        ModelSpec(
            name="retinaface_resnet50",
            kind="detector",
            filename="detection_Resnet50_Final.pth",
            repo="xinntao/facexlib",
            tag="v0.1.0",
            sha256="6d1de9c2944f2ccddca5f5e010ea5ae64a39845a86311af6fdf30841b0a5a16d",
            size=109_497_761,
            licence="MIT",
            title="RetinaFace ResNet-50 face detector",
        ),
        ModelSpec(
            name="retinaface_mobile0.25",
            kind="detector",
            filename="detection_mobilenet0.25_Final.pth",
            repo="xinntao/facexlib",
            tag="v0.1.0",
            sha256="2979b33ffafda5d74b6948cd7a5b9a7a62f62b949cef24e95fd15d2883a65220",
            size=1_789_735,
            licence="MIT",
            title="RetinaFace MobileNet-0.25 face detector (fast)",
        ),
        ModelSpec(
            name="parsenet",
            kind="parsing",
            filename="parsing_parsenet.pth",
            repo="xinntao/facexlib",
            tag="v0.2.2",
            sha256="3d558d8d0e42c20224f13cf5a29c79eba2d59913419f945545d8cf7b72920de2",
            size=85_331_193,
            licence="MIT",
            title="ParseNet face parsing",
        ),
        ModelSpec(
            name="arcface",
            kind="identity",
            filename="recognition_arcface_ir_se50.pth",
            repo="xinntao/facexlib",
            tag="v0.1.0",
            sha256="a035c768259b98ab1ce0e646312f48b9e1e218197a0f80ac6765e88f8b6ddf28",
            size=None,
            approx_size=175_000_000,
            licence="MIT",
            title="ArcFace identity (reference pairing)",
        ),
        ModelSpec(
            name="realesrgan_x2",
            kind="upscaler",
            filename="RealESRGAN_x2plus.pth",
            repo="xinntao/Real-ESRGAN",
            tag="v0.2.1",
            sha256="49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
            size=67_061_725,
            licence="BSD-3-Clause",
            title="Real-ESRGAN x2 background upscaler",
        ),
        ModelSpec(
            name="realesrgan_x4",
            kind="upscaler",
            filename="RealESRGAN_x4plus.pth",
            repo="xinntao/Real-ESRGAN",
            tag="v0.1.0",
            sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
            size=67_040_989,
            licence="BSD-3-Clause",
            title="Real-ESRGAN x4 background upscaler",
        ),
    )
}


#: The face model used when none is installed (and downloaded when allowed).
DEFAULT_FACE_MODEL = "gfpgan"


def face_models() -> tuple[str, ...]:
    """Names of the registry's face restoration models, in registry order (``auto``'s order)."""
    return tuple(name for name, model in MODELS.items() if model.kind == "face")


def spec(name: str) -> ModelSpec:
    """The spec called ``name``, or a ``ModelError`` listing the known names."""
    from ..errors import ModelError

    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(MODELS)}") from None
