"""Imaging: format sniffing, metadata, and the view/grid renditions of an original.

Pure code (no AWS): the thumbnail step streams the original in and uploads what ``pipeline.render``
returns. ``render`` is not imported here: it pulls in the RAW decoder (numpy, rawpy), which Classify's
package does not carry (functions/requirements/classify.txt) and does not need to sniff a format.
"""

from __future__ import annotations

import pillow_heif as _pillow_heif

from .metadata import PhotoMetadata, date_from_key
from .rendering import Rendition
from .sniff import FormatInfo, sniff

_pillow_heif.register_heif_opener()

__all__ = ["FormatInfo", "PhotoMetadata", "Rendition", "date_from_key", "sniff"]
