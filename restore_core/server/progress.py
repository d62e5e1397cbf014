"""From the engine's progress events to a job's percentage and the words shown for it.

Each engine stage owns a span of the 0-100 scale, in the order a job passes them; within a
stage, ``done / total`` moves through its span. A job's percentage never goes back (a stage
may be entered again, e.g. a second model loading), and 100 is kept for the finished job.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import ProgressEvent

#: engine stage -> (first percent, last percent, what the user reads)
STAGES: dict[str, tuple[int, int, str]] = {
    "decode": (0, 5, "Reading image..."),
    "detect": (5, 20, "Detecting faces..."),
    "align": (20, 22, "Aligning faces..."),
    "load-model": (22, 26, "Loading model..."),
    "prepare-model": (26, 30, "Preparing the model for this computer (once)..."),
    "restore": (30, 85, "Enhancing faces..."),
    "upscale": (85, 90, "Upscaling..."),
    "compose": (90, 95, "Blending faces..."),
    "encode": (95, 99, "Saving result..."),
}
QUEUED_STAGE = "Waiting in queue..."


@dataclass(frozen=True)
class Step:
    percent: int
    stage: str  # the words, e.g. "Enhancing faces..."
    message: str  # the engine's detail, e.g. "restoring face 2 of 3 (gfpgan)"


def step_for(event: ProgressEvent, previous: int) -> Step:
    """Where ``event`` puts a job that was at ``previous`` percent."""
    first, last, words = STAGES.get(event.stage, (previous, previous, event.stage))
    fraction = event.done / event.total if event.total else 0.0
    percent = first + round((last - first) * min(max(fraction, 0.0), 1.0))
    return Step(max(previous, percent), words, event.message)
