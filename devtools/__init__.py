"""Development tools that never ship (the wheel and the frozen app hold only ``restore_core``
and ``app``): the benchmark, the stand-in model writers the tests and the benchmark share, the
app start-up probe, and the icon renderer. Run them from a source checkout, e.g.
``python -m devtools.bench --quick``.
"""
