"""Benchmarks: this project against facexlib's reference pipeline, in one command.

    python -m devtools.bench            # the full table (a few minutes on 2 cores)
    python -m devtools.bench --quick    # one round each, for CI-sized checks

Each scenario runs ours and the reference alternately in the same process and reports
medians, their ratio, the peak memory of a run and the target from issue 7; the table goes
to the terminal and to ``docs/benchmarks.md``. Random-initialised GFPGAN and CodeFormer of
the real architectures stand in for the published weights (same compute), with the real
RetinaFace mobile0.25 detector weights from the shared test data. Needs a source checkout
(the stand-in models come from ``devtools/stand_in_models.py``).
"""
