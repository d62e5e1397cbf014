"""Image input and output: every supported photo format in and out, with colour, depth,
metadata and orientation kept, and the original never touched.

``load_image`` decodes by content into an upright ``LoadedImage``; ``save_image`` writes by
extension through ``atomic_write`` (temp file, fsync, rename), which other modules reuse for
reports, comparison images and model files.
"""

from .atomic import WriteSet, atomic_write, make_folder
from .decode import DEFAULT_MAX_PIXELS, DEFAULT_MAX_PIXELS_PER_BYTE, ImageProbe, image_size, load_image, probe_image
from .encode import OUTPUT_EXTENSIONS, SOFTWARE, default_output_suffix, save_image
from .formats import INPUT_EXTENSIONS
from .image import LoadedImage
from .paths import check_output_path, same_file

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_PIXELS_PER_BYTE",
    "INPUT_EXTENSIONS",
    "OUTPUT_EXTENSIONS",
    "SOFTWARE",
    "ImageProbe",
    "LoadedImage",
    "WriteSet",
    "atomic_write",
    "check_output_path",
    "default_output_suffix",
    "image_size",
    "load_image",
    "make_folder",
    "probe_image",
    "same_file",
    "save_image",
]
