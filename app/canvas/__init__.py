"""The image canvas: view math and hit testing (``app.components.viewport``, no Qt), painters
in z-order (``painters``), and the widget that ties them to events (``widget``)."""

from .widget import ImageCanvas

__all__ = ["ImageCanvas"]
