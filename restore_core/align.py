"""Alignment of a face to the 512 x 512 FFHQ template and the exact way back.

``FaceWarp`` is a similarity transform from image pixels to aligned-face pixels. It crops
the aligned face, and maps a restored face back into its own image region only: the
paste-back never touches (or allocates) the whole canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ALIGNED_SIZE = 512

#: Five landmarks of the FFHQ-aligned face at 512 px (facexlib's template, as GFPGAN and
#: CodeFormer were trained on): left eye, right eye, nose, left and right mouth corners.
FFHQ_TEMPLATE_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.19360],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ],
    dtype=np.float64,
)

Region = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in image pixels


@dataclass(frozen=True, eq=False)
class FaceWarp:
    """``matrix`` (2 x 3) maps image (x, y) to aligned-face (u, v)."""

    matrix: np.ndarray
    size: int = ALIGNED_SIZE

    @property
    def inverse(self) -> np.ndarray:
        return cv2.invertAffineTransform(self.matrix)

    @property
    def scale(self) -> float:
        """Aligned pixels per image pixel (above 1 when the face is smaller than the template)."""
        return float(np.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    def scaled(self, factor: float) -> FaceWarp:
        """The same warp for the image resized by ``factor`` (output resolution)."""
        return self.for_canvas((0.0, 0.0), factor)

    def for_canvas(self, origin: tuple[float, float], scale: float | tuple[float, float]) -> FaceWarp:
        """The warp for a canvas showing the image from ``origin`` (image pixels) at ``scale``
        (one factor, or x and y factors).

        Canvas pixel c shows image pixel (c + 0.5) / scale - 0.5 + origin, pixel centres on
        pixel centres as ``cv2.resize`` makes them: a viewport, or the output image (origin 0,
        scale = output / input size).
        """
        factors = np.broadcast_to(np.asarray(scale, dtype=np.float64), (2,))
        m = self.matrix.copy()
        m[:, 2] += self.matrix[:, :2] @ (np.asarray(origin, dtype=np.float64) + 0.5 / factors - 0.5)
        m[:, :2] /= factors  # column x by the x factor, column y by the y factor
        return FaceWarp(m, self.size)

    def region(self, width: int, height: int, pad: int = 2) -> Region:
        """Bounding box in the image of the aligned square, padded and clipped to the image.

        Empty (x0 == x1 or y0 == y1) when the face lies entirely outside.
        """
        s = self.size
        corners = np.array([[0, 0, 1], [s, 0, 1], [0, s, 1], [s, s, 1]], dtype=np.float64)
        pts = corners @ self.inverse.T
        x0 = int(np.clip(np.floor(pts[:, 0].min()) - pad, 0, width))
        y0 = int(np.clip(np.floor(pts[:, 1].min()) - pad, 0, height))
        x1 = int(np.clip(np.ceil(pts[:, 0].max()) + pad, x0, width))
        y1 = int(np.clip(np.ceil(pts[:, 1].max()) + pad, y0, height))
        return x0, y0, x1, y1

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The aligned face (size x size) sampled from ``image``; edges mirror the image.

        A face larger than the template is first shrunk with area averaging to about the
        template's scale: ``warpAffine`` has no area filter, and sampling a large face with a
        small kernel aliases its fine texture (hair, skin pores, film grain) into false patterns.
        """
        if self.scale >= 1:
            return cv2.warpAffine(
                image, self.matrix, (self.size, self.size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101
            )
        x0, y0, x1, y1 = self.region(image.shape[1], image.shape[0], pad=8)
        if x1 <= x0 or y1 <= y0:
            x0, y0, x1, y1 = 0, 0, image.shape[1], image.shape[0]
        small_w, small_h = max(1, round((x1 - x0) * self.scale)), max(1, round((y1 - y0) * self.scale))
        small = cv2.resize(image[y0:y1, x0:x1], (small_w, small_h), interpolation=cv2.INTER_AREA)
        warp = self.for_canvas((x0, y0), (small_w / (x1 - x0), small_h / (y1 - y0)))
        return cv2.warpAffine(
            small, warp.matrix, (self.size, self.size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101
        )

    def to_region(self, aligned: np.ndarray, region: Region) -> np.ndarray:
        """Map ``aligned`` (size x size [x C]) back into ``region`` of the image.

        Returns an array of the region's size; pixels the aligned square does not cover are 0.
        """
        x0, y0, x1, y1 = region
        if x1 <= x0 or y1 <= y0:  # OpenCV reads an empty size as "the input's size"
            return np.zeros((max(0, y1 - y0), max(0, x1 - x0), *aligned.shape[2:]), aligned.dtype)
        inverse = self.inverse
        inverse[:, 2] -= (x0, y0)
        # Cubic: bilinear sampling blurs fine texture (film grain, print screens) on the way back.
        return cv2.warpAffine(
            aligned, inverse, (x1 - x0, y1 - y0), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )


def estimate_warp(landmarks: np.ndarray, size: int = ALIGNED_SIZE) -> FaceWarp:
    """Least-squares similarity (rotation, uniform scale, shift) from 5 landmarks to the template.

    Closed form (Umeyama), so the same landmarks always give the same warp; facexlib's LMEDS
    estimate is randomised.
    """
    src = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    dst = FFHQ_TEMPLATE_512 * (size / ALIGNED_SIZE)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, sigma, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rotation = u @ np.diag(d) @ vt
    var_src = (src_c**2).sum() / len(src)
    if var_src <= 1e-12:
        raise ValueError("face landmarks are degenerate (all in one point)")
    scale = float((sigma * d).sum() / var_src)
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - matrix[:, :2] @ src_mean
    return FaceWarp(matrix, size)
