"""ONNX Runtime: the CPU here; DirectML (AMD, Intel and NVIDIA GPUs on Windows) and CoreML (macOS).

The graph is exported to ONNX (opset 18) in the precision it runs in: fp32, or fp16 on a GPU
for models spandrel says support half precision.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .converted import Graph, Runtime
from .precision import Precision

GRAPH_FILE = "model.onnx"  # weights beside it in model.onnx.data (protobuf caps files at 2 GB)
OPSET = 18
CPU = "CPUExecutionProvider"
#: Accelerated providers in the order they are tried, with the platform each is built for
#: (onnxruntime-directml on Windows; CoreML is in the macOS wheels) and its name for people.
ACCELERATORS = (
    ("DmlExecutionProvider", "win32", "DirectML GPU"),
    ("CoreMLExecutionProvider", "darwin", "Apple GPU / Neural Engine (CoreML)"),
)
#: CoreML compiles an ML Program and may use every compute unit (CPU, GPU, Neural Engine).
PROVIDER_OPTIONS: dict[str, dict[str, str]] = {
    "CoreMLExecutionProvider": {"ModelFormat": "MLProgram", "MLComputeUnits": "ALL"},
}
ORT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


class OnnxRuntime(Runtime):
    backend = "onnxruntime"
    recipe = f"onnx-opset{OPSET}"

    def __init__(self, descriptor: Any, *, cpu_only: bool) -> None:
        import onnxruntime as ort

        self.version = ort.__version__
        available = set(ort.get_available_providers())
        self.provider, self.device_name = CPU, "CPU"
        if not cpu_only:
            for provider, platform, title in ACCELERATORS:
                if provider in available and sys.platform == platform:
                    self.provider, self.device_name = provider, title
                    break
        self.accelerator = self.provider != CPU

    def offered(self) -> tuple[Precision, ...]:
        return ("fp32", "fp16") if self.accelerator else ("fp32",)

    def stored_precision(self, precision: Precision) -> Precision:
        return precision

    def write(self, program: torch.export.ExportedProgram, folder: Path) -> None:
        onnx_program = torch.onnx.export(program, dynamo=True, opset_version=OPSET, verbose=False)
        if onnx_program is None:  # only the legacy exporter returns None
            raise RuntimeError("torch.onnx.export returned no program")
        onnx_program.save(str(folder / GRAPH_FILE), external_data=True)

    def load(self, folder: Path, precision: Precision) -> Graph:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = torch.get_num_threads()  # the process's thread budget
        options.log_severity_level = 3  # errors only: its warnings are about its own fallbacks
        if self.provider == "DmlExecutionProvider":
            # DirectML's documented requirements: no memory patterns, sequential execution.
            options.enable_mem_pattern = False
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        providers: list[Any] = [(self.provider, PROVIDER_OPTIONS.get(self.provider, {}))]
        if self.accelerator:
            providers.append(CPU)  # operators the accelerator lacks
        session = ort.InferenceSession(str(folder / GRAPH_FILE), options, providers=providers)
        inputs = [(i.name, ORT_TYPES.get(i.type, np.float32)) for i in session.get_inputs()]

        def run(arrays: Any) -> list[np.ndarray]:
            feed = {name: np.asarray(a, dtype=dtype) for (name, dtype), a in zip(inputs, arrays, strict=True)}
            return [np.asarray(o, dtype=np.float32) for o in session.run(None, feed)]

        return run
