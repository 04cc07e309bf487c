import type { LayerSpec, ModelSpec } from '@gradkit/nn';
import type { StateDict } from '@gradkit/tensor';
import { formatShape, ShapeError, shapesEqual, ValueError } from '@gradkit/tensor';
import { encodeSafetensors } from '../checkpoint/safetensors.js';
import type { TorchHelper } from './torch-layers.js';
import { torchLayer } from './torch-layers.js';

const OP = 'exportTorch';

/** What {@link exportTorch} produces: the Python module and the weights it loads. */
export interface TorchExport {
  /** `model.py`: `build()`, `load(path)`, `save(model, path)` and a safetensors reader and writer. */
  readonly source: string;
  /** `model.safetensors`: the state dict with PyTorch's names, F32 and I64 (`num_batches_tracked`). */
  readonly weights: Uint8Array;
}

/** Options of {@link exportTorch} (and of `writeTorchExport` of `@gradkit/trainer/node`). */
export interface ExportTorchOptions {
  /** The weights file name `load()` opens by default (default `'model.safetensors'`). */
  readonly weightsFile?: string;
  /** One line about the model for the module's docstring (default: the layer count). */
  readonly title?: string;
}

const HELPERS: Record<TorchHelper, string> = {
  PaddedConv2d: `class PaddedConv2d(nn.Conv2d):
    """nn.Conv2d after asymmetric zero padding pad=(left, right, top, bottom) (gradkit's [top, bottom, left, right])."""

    def __init__(self, *args, pad=(0, 0, 0, 0), **kwargs):
        super().__init__(*args, **kwargs)
        self.pad = tuple(pad)

    def forward(self, x):
        return super().forward(F.pad(x, self.pad))
`,
  RMSNorm: `class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the trailing dims (torch.nn.RMSNorm of PyTorch 2.4)."""

    def __init__(self, normalized_shape, eps=2.0**-23):
        super().__init__()
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        return x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + self.eps) * self.weight
`,
  GaussianDropout: `class GaussianDropout(nn.Module):
    """Multiplicative N(1, p / (1 - p)) noise while training, the identity in eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return x * (1 + (self.p / (1 - self.p)) ** 0.5 * torch.randn_like(x))
`,
};

const IO = `_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """The tensors of a safetensors file by name (a plain reader: no pickle, no extra package)."""
    assert sys.byteorder == "little", "safetensors data is little-endian"
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        dtype = _DTYPES[e["dtype"]]
        raw = bytearray(data[8 + n + begin : 8 + n + end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out


def write_safetensors(tensors, path, metadata=None):
    """Writes tensors in the safetensors format (names sorted, as safetensors.torch.save_file)."""
    assert sys.byteorder == "little", "safetensors data is little-endian"
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = dict(metadata)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for raw in blobs:
            f.write(raw)


def load(path=None, device="cpu"):
    """build() with the weights of \`path\` (default: the file beside this module), strict=True, in eval mode."""
    model = build()
    model.load_state_dict(read_safetensors(path or os.path.join(os.path.dirname(os.path.abspath(__file__)), WEIGHTS)), strict=True)
    return model.to(device).eval()


def save(model, path):
    """Writes model.state_dict() as safetensors (float32, int64 counts) for gradkit to load back."""
    write_safetensors(model.state_dict(), path, {"format": "pt"})


def load_optimizer(model, path=None):
    """torch.optim.SGD/Adam/AdamW over model's parameters with gradkit's exported state.

    path: the files' stem (default "optimizer" beside this module: optimizer.json with the param
    groups and steps, optimizer.safetensors with the tensors "state.<index>.<name>"). Parameter i
    is model.named_parameters()'s entry named paramNames[i]; build it before wrapping the model
    in DistributedDataParallel.
    """
    stem = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizer")
    with open(stem + ".json") as f:
        meta = json.load(f)
    assert meta.get("format") == "gradkit.torch-optimizer", stem + ".json: not a gradkit optimizer export"
    tensors = read_safetensors(stem + ".safetensors")
    named = dict(model.named_parameters())
    names = meta["paramNames"]
    missing = [n for n in names if n not in named]
    if missing:
        raise KeyError("the model has no parameters " + ", ".join(missing))
    saved = meta["stateDict"]
    groups = []
    for g in saved["param_groups"]:
        hp = {k: tuple(v) if isinstance(v, list) else v for k, v in g.items() if k != "params"}
        groups.append(dict(hp, params=[named[names[i]] for i in g["params"]]))
    optimizer = getattr(torch.optim, meta["optimizer"])(groups)
    state = {}
    for key, entry in saved["state"].items():
        i, s = int(key), {}
        if "step" in entry:
            s["step"] = torch.tensor(float(entry["step"]))
        prefix = "state.%d." % i
        for name, t in tensors.items():
            if name.startswith(prefix):
                s[name[len(prefix) :]] = t
        state[i] = s
    full = optimizer.state_dict()
    full["state"] = state
    optimizer.load_state_dict(full)
    return optimizer


def save_optimizer(optimizer, model, path):
    """Writes optimizer.state_dict() as path.json + path.safetensors, for gradkit's decodeTorchOptimizer."""
    ids = {id(p): n for n, p in model.named_parameters()}
    names = [ids[id(p)] for g in optimizer.param_groups for p in g["params"]]
    sd = optimizer.state_dict()
    tensors, state = {}, {}
    for i, entry in sd["state"].items():
        s = {}
        for k, v in entry.items():
            if k == "step":
                s["step"] = int(float(v))
            elif torch.is_tensor(v):
                tensors["state.%d.%s" % (i, k)] = v.float()
        state[str(i)] = s
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in sd["param_groups"]]
    meta = {
        "format": "gradkit.torch-optimizer",
        "version": 1,
        "optimizer": type(optimizer).__name__,
        "paramNames": names,
        "stateDict": {"state": state, "param_groups": groups},
    }
    write_safetensors(tensors, path + ".safetensors", {"format": "pt"})
    with open(path + ".json", "w") as f:
        json.dump(meta, f, indent=1)
`;

function layersOf(spec: ModelSpec | readonly LayerSpec[]): readonly LayerSpec[] {
  const layers = Array.isArray(spec) ? (spec as readonly LayerSpec[]) : (spec as ModelSpec | null)?.layers;
  if (!Array.isArray(layers)) throw new ValueError(OP, 'expected a layer list or { layers: [...] }');
  if (!Array.isArray(spec)) {
    const m = spec as ModelSpec;
    if (m.format !== 'gradkit.sequential' || m.version !== 1)
      throw new ValueError(OP, `unsupported model format ${JSON.stringify(m.format)} version ${m.version}`);
  }
  if (layers.length === 0) throw new ValueError(OP, 'the model has no layers');
  return layers;
}

/**
 * The Python source of `model.py` for a model description: `build()` returns the equivalent
 * `nn.Sequential` (layer i is child `str(i)`, so the state dict keys are gradkit's:
 * `0.weight`, `1.running_mean`, ...), `load(path)` builds it and loads a safetensors file with
 * `load_state_dict(strict=True)` in eval mode, `save(model, path)` writes a state dict back as
 * safetensors, and `read_safetensors`/`write_safetensors` do so with `struct` and `json` only (no
 * pickle, no `safetensors` package; `save` needs numpy, which PyTorch's `Tensor.numpy` uses).
 * `load_optimizer(model)` builds `torch.optim.SGD`/`Adam`/`AdamW` over the model's parameters
 * with an exported optimizer state (`optimizer.json` + `optimizer.safetensors`, see
 * `encodeTorchOptimizer`) and `save_optimizer(opt, model, stem)` writes one back.
 * Layers PyTorch 1.13 lacks are small classes in the file: `RMSNorm`, `GaussianDropout`, and
 * `PaddedConv2d` for asymmetric `[top, bottom, left, right]` padding.
 *
 * Mapping: linear -> nn.Linear, conv2d -> nn.Conv2d, maxPool2d/avgPool2d/adaptiveAvgPool2d ->
 * nn.MaxPool2d/AvgPool2d/AdaptiveAvgPool2d, flatten -> nn.Flatten, activations -> nn.ReLU,
 * LeakyReLU, Tanh, Sigmoid, GELU (`approximate`), SELU, ELU, Softplus, Identity, Softmax(dim),
 * batchNorm/batchNorm2d -> nn.BatchNorm1d/2d (a `'keras'` convention's momentum becomes
 * `1 - momentum`), layerNorm -> nn.LayerNorm, groupNorm -> nn.GroupNorm, dropout, dropout2d,
 * alphaDropout -> nn.Dropout, Dropout2d, AlphaDropout. Defaults are written out explicitly.
 *
 * @throws {ValueError} naming the layer index and type for a type with no PyTorch equivalent
 *   (a custom registered layer) or a malformed option.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.Sequential.html
 * @example
 * ```ts
 * const source = torchModelSource([{ type: 'linear', in: 4, out: 2 }]);
 * // def build():\n    return nn.Sequential(\n        nn.Linear(4, 2, bias=True),  # 0 ...
 * ```
 */
export function torchModelSource(
  spec: ModelSpec | readonly LayerSpec[],
  options: ExportTorchOptions = {},
): string {
  const layers = layersOf(spec);
  const torch = layers.map((l, i) => torchLayer(l, i));
  const weightsFile = options.weightsFile ?? 'model.safetensors';
  if (typeof weightsFile !== 'string' || weightsFile === '' || /[\\/]/.test(weightsFile))
    throw new ValueError(OP, `weightsFile must be a file name, got ${JSON.stringify(weightsFile)}`);
  const title = options.title ?? `a gradkit model of ${layers.length} layers`;
  const helpers = [...new Set(torch.flatMap((t) => t.helpers))].sort();
  const rows = torch.map((t, i) => {
    const note = t.note ? `  # ${i}; ${t.note}` : `  # ${i}: ${layers[i].type}`;
    return `        ${t.python},${note}`;
  });
  // a docstring: backslashes escaped (a Windows path's \U is a unicode escape), no closing quotes
  const doc = title.replace(/\\/g, '\\\\').replace(/"""/g, "'''");
  return `"""${doc}, exported for PyTorch by gradkit.

    import model
    net = model.load()                       # nn.Sequential, weights of ${weightsFile}, strict=True, eval mode
    logits = net(x)                          # x: float32, the shape the gradkit model took
    model.save(net, "trained.safetensors")   # back to gradkit: loadTorchStateDict(model, path)
    opt = model.load_optimizer(net)          # when exported with one: torch.optim.SGD/Adam/AdamW, gradkit's state
    model.save_optimizer(opt, net, "trained-optimizer")  # back to gradkit: decodeTorchOptimizer

Self-contained: PyTorch (and numpy for save) only; the weights are read without pickle.
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F  # noqa: F401 (used by the helper classes)
from torch import nn

WEIGHTS = ${JSON.stringify(weightsFile)}

${helpers.map((h) => `\n${HELPERS[h]}`).join('\n')}
def build():
    """The model, with PyTorch's initial weights (load() puts gradkit's in)."""
    return nn.Sequential(
${rows.join('\n')}
    )


${IO}`;
}

/**
 * Checks a state dict against what the PyTorch model of `spec` holds (names, shapes, finite
 * values) and returns it with PyTorch's dtypes (`num_batches_tracked` as `'int64'`).
 */
function torchStateDict(layers: readonly LayerSpec[], stateDict: StateDict): StateDict {
  if (typeof stateDict !== 'object' || stateDict === null)
    throw new ValueError(OP, 'expected a state dict object');
  const expected = layers.flatMap((l, i) =>
    torchLayer(l, i).entries.map((e) => ({ ...e, name: `${i}.${e.name}` })),
  );
  const names = new Set(expected.map((e) => e.name));
  const missing = expected.filter((e) => !Object.hasOwn(stateDict, e.name)).map((e) => e.name);
  const unexpected = Object.keys(stateDict).filter((k) => !names.has(k));
  if (missing.length || unexpected.length) {
    const parts = [
      ...(missing.length ? [`missing keys: ${missing.join(', ')}`] : []),
      ...(unexpected.length ? [`unexpected keys: ${unexpected.join(', ')}`] : []),
    ];
    throw new ValueError(OP, `the state dict does not match the model description (${parts.join('; ')})`);
  }
  const out: StateDict = {};
  for (const e of expected) {
    const got = stateDict[e.name];
    if (!shapesEqual(got.shape, e.shape)) {
      throw new ShapeError(
        OP,
        `'${e.name}' has shape ${formatShape(got.shape)}, PyTorch's module holds ${formatShape(e.shape)}`,
        [got.shape, e.shape],
      );
    }
    const bad = got.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new ValueError(OP, `'${e.name}' holds a non-finite value (${got.data[bad]} at index ${bad})`);
    out[e.name] = e.dtype
      ? { shape: got.shape, data: got.data, dtype: e.dtype }
      : { shape: got.shape, data: got.data };
  }
  return out;
}

/**
 * Exports a model for PyTorch: the Python module of {@link torchModelSource} and its weights as
 * safetensors with PyTorch's names and dtypes (F32, `num_batches_tracked` I64, metadata
 * `format: pt`). The state dict is checked first against the PyTorch model of `spec`: every key
 * and none other, the shapes, finite values; nothing is produced on failure.
 *
 * @param spec the model description (`describeModel(model)` or a checkpoint's `modelSpec`).
 * @param stateDict the weights (`model.stateDict()` or a checkpoint's `model`).
 * @throws {ValueError} for a layer type with no PyTorch equivalent, missing or unexpected keys
 *   (listed), a non-finite value (named); {@link ShapeError} naming a key whose shape differs.
 * @see https://github.com/huggingface/safetensors (format)
 * @example
 * ```ts
 * const { source, weights } = exportTorch(describeModel(model), model.stateDict());
 * writeFileSync('out/model.py', source);
 * writeFileSync('out/model.safetensors', weights);
 * // python: import model; net = model.load(); net(torch.randn(8, 784))
 * ```
 */
export function exportTorch(
  spec: ModelSpec | readonly LayerSpec[],
  stateDict: StateDict,
  options: ExportTorchOptions = {},
): TorchExport {
  const source = torchModelSource(spec, options);
  const weights = encodeSafetensors(torchStateDict(layersOf(spec), stateDict), { format: 'pt' });
  return { source, weights };
}
