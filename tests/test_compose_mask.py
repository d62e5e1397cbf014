"""Aligned-space masks: feathered paste-back weight and the skin area for colour statistics."""

from __future__ import annotations

import numpy as np
import pytest

from restore_core.align import FFHQ_TEMPLATE_512
from restore_core.compose import face_blend_mask, skin_mask


@pytest.mark.parametrize("build", [face_blend_mask, skin_mask])
def test_masks_are_cached_read_only_float32(build) -> None:
    mask = build(512)
    assert mask.shape == (512, 512) and mask.dtype == np.float32
    assert build(512) is mask
    assert not mask.flags.writeable
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert build(256).shape == (256, 256)


def test_blend_mask_covers_the_face_and_fades_before_the_crop_edge() -> None:
    mask = face_blend_mask(512)
    for x, y in FFHQ_TEMPLATE_512.round().astype(int):
        assert mask[y, x] == 1.0
    assert mask[440, 256] > 0.5  # chin
    assert mask[100, 256] > 0.5  # hairline
    border = np.concatenate([mask[:8].ravel(), mask[-8:].ravel(), mask[:, :8].ravel(), mask[:, -8:].ravel()])
    assert border.max() == 0.0
    # Feathered: no step anywhere (a hard seam would jump from 0 to 1 between neighbours).
    assert np.abs(np.diff(mask, axis=0)).max() < 0.05
    assert np.abs(np.diff(mask, axis=1)).max() < 0.05
    # Rounded: the corners fade earlier than the sides.
    assert mask[60, 60] < mask[60, 256]


def test_skin_mask_holds_cheeks_not_eyes_mouth_or_background() -> None:
    mask = skin_mask(512)
    left_eye, right_eye, nose, mouth_left, mouth_right = FFHQ_TEMPLATE_512.round().astype(int)
    for x, y in (left_eye, right_eye, (mouth_left + mouth_right) // 2):
        assert mask[y, x] == 0.0
    assert mask[nose[1], nose[0]] > 0.9
    assert mask[320, 190] > 0.9 and mask[320, 322] > 0.9  # cheeks
    assert mask[30, 30] == 0.0 and mask[256, 20] == 0.0 and mask[500, 256] == 0.0
