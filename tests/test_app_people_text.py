"""Error text for people and download speed / time left (Qt-free)."""

from __future__ import annotations

import errno

from app.components.people_text import for_people
from app.components.transfer_rate import TransferRate, duration_text


def test_a_download_error_becomes_sentences_with_a_next_step() -> None:
    raw = "could not download GFPGANv1.4.pth from http://x/y.pth: [Errno 111] Connection refused"
    text = for_people(raw, "download it yourself")
    assert text == (
        "Could not download GFPGANv1.4.pth from http://x/y.pth: the server refused the connection. "
        "Download it yourself."
    )


def test_an_os_error_loses_its_number_and_command_lines_go() -> None:
    err = PermissionError(errno.EACCES, "Permission denied", "/models/a.pth")
    assert for_people(err, "choose another folder") == (
        "Facemend is not allowed to write there: /models/a.pth. Choose another folder."
    )
    raw = "x.jpg: cannot tell which model this is; say which model it is (facemend-cli models import FILE --name NAME)"
    text = for_people(raw, "choose the downloaded file")
    assert "facemend-cli" not in text and text.startswith("x.jpg: cannot tell") and text.endswith("file.")
    assert "errno" not in for_people(OSError(errno.ENOSPC, "No space left on device"), "free some space").lower()


def test_speed_and_time_left_follow_the_samples() -> None:
    now = [0.0]
    rate = TransferRate(clock=lambda: now[0])
    assert rate.update(0, 10_000_000) == "0.0 of 10.0 MB"
    now[0] = 1.0
    assert rate.update(2_000_000, 10_000_000) == "2.0 of 10.0 MB · 2.0 MB/s · 4 s left"
    assert duration_text(125) == "2 min 5 s" and duration_text(3700) == "1 h 1 min"
