"""OpenVINO: the CPU (fp32, or bf16 where the CPU computes it), and an Intel GPU or NPU it finds.

The graph is stored as OpenVINO IR in fp32; the run precision is a compile option
(``INFERENCE_PRECISION_HINT``), so one stored graph serves the fp32 and the bf16 runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .converted import Graph, Runtime
from .export import example_shapes
from .precision import Precision

HINTS: dict[Precision, str] = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
CAPABILITIES: dict[str, Precision] = {"FP32": "fp32", "BF16": "bf16", "FP16": "fp16"}
GRAPH_FILE = "model.xml"  # beside it OpenVINO writes model.bin, the weights


class OpenVINORuntime(Runtime):
    backend = "openvino"
    recipe = "ir-static-fp32"

    def __init__(self, descriptor: Any, *, cpu_only: bool) -> None:
        import openvino as ov

        self.version = ov.get_version()
        self._core = ov.Core()
        devices = list(self._core.available_devices)
        # An Intel GPU first; an NPU only for models that may run in half precision (NPUs
        # compute in fp16); else the CPU.
        wanted = [d for d in devices if d.startswith("GPU")]
        if descriptor.supports_half:
            wanted += [d for d in devices if d.startswith("NPU")]
        self.device = "CPU" if cpu_only or not wanted else wanted[0]
        self.accelerator = self.device != "CPU"
        full_name = str(self._core.get_property(self.device, "FULL_DEVICE_NAME")).strip()
        self.device_name = f"{full_name} ({self.device})"

    def offered(self) -> tuple[Precision, ...]:
        capabilities = set(self._core.get_property(self.device, "OPTIMIZATION_CAPABILITIES"))
        offered = tuple(p for cap, p in CAPABILITIES.items() if cap in capabilities)
        return offered if "fp32" in offered else ("fp32", *offered)

    def stored_precision(self, precision: Precision) -> Precision:
        return "fp32"

    def write(self, program: torch.export.ExportedProgram, folder: Path) -> None:
        import openvino as ov

        model = ov.convert_model(program)
        # Static shapes, those of the example inputs: OpenVINO plans memory and kernels once.
        model.reshape({i: ov.PartialShape(list(shape)) for i, shape in enumerate(example_shapes(program))})
        ov.save_model(model, folder / GRAPH_FILE, compress_to_fp16=False)

    def load(self, folder: Path, precision: Precision) -> Graph:
        config = {"INFERENCE_PRECISION_HINT": HINTS[precision], "PERFORMANCE_HINT": "LATENCY"}
        if self.device == "CPU":
            config["INFERENCE_NUM_THREADS"] = str(torch.get_num_threads())  # the process's thread budget
        compiled = self._core.compile_model(self._core.read_model(folder / GRAPH_FILE), self.device, config)
        request = compiled.create_infer_request()
        outputs = list(compiled.outputs)

        def run(inputs: Any) -> list[np.ndarray]:
            result = request.infer(list(inputs))
            return [np.array(result[o], dtype=np.float32) for o in outputs]

        return run
