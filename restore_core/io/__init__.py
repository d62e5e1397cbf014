"""Image input and output: every supported photo format in and out, with colour, depth,
metadata and orientation kept, and the original never touched.

``load_image`` decodes by content into an upright ``LoadedImage``; ``save_image`` writes by
extension through ``atomic_write`` (temp file, fsync, rename), which other modules reuse for
reports, comparison images and model files.
"""

from .atomic import atomic_write
from .decode import DEFAULT_MAX_PIXELS, image_size, load_image
from .encode import OUTPUT_EXTENSIONS, SOFTWARE, default_output_suffix, save_image
from .formats import INPUT_EXTENSIONS
from .image import LoadedImage

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "INPUT_EXTENSIONS",
    "OUTPUT_EXTENSIONS",
    "SOFTWARE",
    "LoadedImage",
    "atomic_write",
    "default_output_suffix",
    "image_size",
    "load_image",
    "save_image",
]
