"""Before/after comparison images: layout, resizing, legible labels."""

from __future__ import annotations

import numpy as np
import pytest

from restore_core.compose import comparison_image

BEFORE = np.full((120, 160, 3), (200, 30, 30), dtype=np.uint8)
AFTER = np.full((120, 160, 3), (30, 30, 200), dtype=np.uint8)


def test_side_by_side_puts_before_left_and_after_right() -> None:
    out = comparison_image(BEFORE, AFTER, labels=False)
    assert out.shape == (120, 320, 3) and out.dtype == np.uint8
    assert np.array_equal(out[:, :160], BEFORE) and np.array_equal(out[:, 160:], AFTER)


def test_split_cuts_at_the_given_fraction() -> None:
    out = comparison_image(BEFORE, AFTER, mode="split", labels=False, split=0.25)
    assert out.shape == (120, 160, 3)
    assert np.array_equal(out[:, :35], BEFORE[:, :35])
    assert np.array_equal(out[:, 45:], AFTER[:, 45:])
    assert (out[:, 40] == 255).all()  # the divider line


def test_labels_are_drawn_and_legible_on_white_and_black() -> None:
    for level in (0, 255):
        flat = np.full((200, 300, 3), level, dtype=np.uint8)
        for mode in ("side_by_side", "split"):
            out = comparison_image(flat, flat, mode=mode)
            top = out[:40]
            # White text in a black outline: both extremes appear, whatever the background.
            white, black = (top >= 200).all(axis=2).sum(), (top <= 55).all(axis=2).sum()
            assert white > 30 and black > 30, (level, mode)
            assert np.array_equal(out[100:], comparison_image(flat, flat, mode=mode, labels=False)[100:])


def test_side_by_side_labels_sit_over_their_own_halves() -> None:
    grey = np.full((200, 300, 3), 128, dtype=np.uint8)
    out = comparison_image(grey, grey)
    marked = np.any(out != 128, axis=2)
    assert marked[:, :150].any() and marked[:, 300:450].any()
    assert not marked[:, 150:300].any()


def test_before_is_resized_to_the_output_size() -> None:
    out = comparison_image(BEFORE[::2, ::2], AFTER, labels=False)
    assert out.shape == (120, 320, 3)
    assert np.array_equal(out[:, :160], BEFORE)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        comparison_image(BEFORE.astype(np.uint16), AFTER)
    with pytest.raises(ValueError, match="mode"):
        comparison_image(BEFORE, AFTER, mode="overlay")  # type: ignore[arg-type]
