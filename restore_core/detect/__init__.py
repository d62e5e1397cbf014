"""Face detection: facexlib's RetinaFace over a coarse image and fine tiles, or boxes from JSON.

``load_detector(name, device)`` -> ``FaceDetector``; ``detector.detect(rgb8, settings)``
gives ``DetectedFace``s in original pixels, left to right (``select.sort_faces``).
"""

from .detector import FaceDetector, load_detector
from .external import faces_from_json
from .select import prominence, select_faces, sort_faces

__all__ = ["FaceDetector", "faces_from_json", "load_detector", "prominence", "select_faces", "sort_faces"]
