"""Face detection: facexlib's RetinaFace over a coarse image and fine tiles, or boxes from JSON.

``load_detector(name, device)`` -> ``FaceDetector``; ``detector.detect(rgb8, settings)``
gives ``DetectedFace``s in original pixels, filtered by ``select_faces`` and ordered left to
right by box centre (ties top to bottom), the order face indices refer to. External boxes:
``faces_from_json``. Importing this package loads torch.
"""

from .detector import FaceDetector, load_detector
from .external import faces_from_json
from .select import prominence, select_faces, sort_faces

__all__ = ["FaceDetector", "faces_from_json", "load_detector", "prominence", "select_faces", "sort_faces"]
