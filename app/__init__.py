"""Facemend's desktop application: a thin PySide6 layer over ``restore_core``.

Nothing here runs model code on the UI thread: ``worker.RenderService`` owns the engine in
its own thread, and the widgets only show what it reports.
"""
