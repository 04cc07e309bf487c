import type { LayerSpec, ModelSpec, Sequential } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import type { StateDict } from '@gradkit/tensor';
import { Rng, ValueError } from '@gradkit/tensor';
import { registerStandardLayers } from '../layers.js';
import type { GraphValue } from './graph.js';
import { GraphBuilder } from './graph.js';
import { MAPPED_TYPES, MAPPINGS } from './mappings.js';
import { modelProto } from './proto.js';
import { StateReader } from './state-reader.js';

const OP = 'exportOnnx';

/**
 * The ONNX operator set {@link exportOnnx} writes (the default domain, `ai.onnx`): 17, the newest
 * that Debian's `python3-onnx` 1.12 checker knows, run by onnxruntime 1.13 and later. With it, IR
 * version {@link ONNX_IR_VERSION}.
 *
 * @see https://github.com/onnx/onnx/blob/main/docs/Versioning.md
 * @example
 * ```ts
 * console.log(`writing ONNX opset ${ONNX_OPSET}`); // 17
 * ```
 */
export const ONNX_OPSET = 17;

/**
 * The ONNX IR version of the files {@link exportOnnx} writes: 8 (ONNX 1.10 and later, opset 17's).
 *
 * @see https://github.com/onnx/onnx/blob/main/docs/IR.md
 * @example
 * ```ts
 * ONNX_IR_VERSION; // 8
 * ```
 */
export const ONNX_IR_VERSION = 8;

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /**
   * The shape of one sample, without the batch dimension (`[1, 28, 28]` for MNIST images into a
   * CNN). Default: read from the first layer that fixes it (`linear`: `[in]`; `batchNorm`:
   * `[numFeatures]`; `layerNorm`/`rmsNorm`: `normalizedShape`); a model that starts with a
   * convolution or pooling needs it (a ValueError says so).
   */
  readonly inputShape?: readonly number[];
  /**
   * The batch dimension of the input and output: a name makes it dynamic (any batch size), a
   * positive integer fixes it. Default `'batch'`.
   */
  readonly batchDim?: string | number;
  /** The graph input's name. Default `'input'`. */
  readonly inputName?: string;
  /** The graph output's name. Default `'output'`. */
  readonly outputName?: string;
  /** `ModelProto.producer_name`. Default `'gradkit'`. */
  readonly producerName?: string;
  /** `ModelProto.producer_version`. Default `''`. */
  readonly producerVersion?: string;
  /** `GraphProto.name`. Default `'gradkit'`. */
  readonly graphName?: string;
}

function checkOptions(options: ExportOnnxOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new ValueError(OP, `options must be an object, got ${String(options)}`);
  const known = new Set([
    'inputShape',
    'batchDim',
    'inputName',
    'outputName',
    'producerName',
    'producerVersion',
    'graphName',
  ]);
  const unknown = Object.keys(options).filter((k) => !known.has(k));
  if (unknown.length) throw new ValueError(OP, `unknown option(s): ${unknown.join(', ')}`);
  const { inputShape, batchDim } = options;
  if (
    inputShape !== undefined &&
    !(Array.isArray(inputShape) && inputShape.every((d) => Number.isSafeInteger(d) && d >= 1))
  ) {
    throw new ValueError(
      OP,
      `inputShape must be a list of positive integers (one sample, no batch dimension), got ${JSON.stringify(inputShape)}`,
    );
  }
  if (
    batchDim !== undefined &&
    !(
      (typeof batchDim === 'string' && batchDim !== '') ||
      (Number.isSafeInteger(batchDim) && (batchDim as number) >= 1)
    )
  ) {
    throw new ValueError(
      OP,
      `batchDim must be a non-empty name or a positive integer, got ${JSON.stringify(batchDim)}`,
    );
  }
  for (const k of ['inputName', 'outputName', 'producerName', 'producerVersion', 'graphName'] as const) {
    const v = options[k];
    if (v !== undefined && typeof v !== 'string')
      throw new ValueError(OP, `${k} must be a string, got ${JSON.stringify(v)}`);
  }
  for (const k of ['inputName', 'outputName'] as const) {
    if (options[k] === '') throw new ValueError(OP, `${k} must not be empty`);
  }
  if (options.inputName !== undefined && options.inputName === options.outputName)
    throw new ValueError(OP, `inputName and outputName must differ, both are '${options.inputName}'`);
}

/** The sample shape a model fixes through its first shape-determining layer, or undefined. */
function inferInputShape(layers: readonly LayerSpec[], model: Sequential): number[] | undefined {
  for (let i = 0; i < layers.length; i++) {
    const layer = model.children[i] as unknown as Record<string, unknown>;
    switch (layers[i].type) {
      case 'linear':
        return [layer.inFeatures as number];
      case 'batchNorm':
        return [layer.numFeatures as number];
      case 'layerNorm':
      case 'rmsNorm':
        return [...(layer.normalizedShape as number[])];
      case 'dropout':
      case 'alphaDropout':
      case 'gaussianDropout':
      case 'identity':
        continue;
      default:
        return undefined;
    }
  }
  return undefined;
}

/**
 * Writes a gradkit model, its description and its weights, as an ONNX model (`ModelProto`
 * bytes, ready for a `.onnx` file or `onnxruntime`'s `InferenceSession.create`), computing
 * what the model computes in evaluation mode:
 *
 * `output = layer_{L-1}( ... layer_0(input))`, `input` `[batch, ...inputShape]`, float32.
 *
 * Opset {@link ONNX_OPSET}, IR version {@link ONNX_IR_VERSION}, one dynamic batch dimension
 * (`batchDim`); initializers named by their state dict keys (`0.weight`); the model description
 * stored as metadata `gradkit.modelSpec` (JSON). The mappings: `linear` Gemm (transB = 1);
 * `conv2d` Conv (pads, strides, dilations, group; `'same'` resolved as PyTorch); `maxPool2d`
 * MaxPool and `avgPool2d` AveragePool (ceil mode as extra end padding; with a ceil-mode
 * overhang or `divisorOverride`, average pooling is a depthwise Conv of ones divided by PyTorch's
 * divisors); `adaptiveAvgPool2d` GlobalAveragePool, AveragePool when the output divides the
 * input, else two MatMuls with PyTorch's averaging matrices; `flatten` Flatten or Reshape;
 * `relu`, `leakyRelu`, `tanh`, `sigmoid`, `selu`, `elu`, `softmax` their ONNX ops; `gelu`
 * `x/2 (1 + erf(x/sqrt 2))` from Erf, Mul, Add; `softplus` with PyTorch's threshold (Where(x > 20,
 * x, Softplus(x))); `batchNorm`/`batchNorm2d` BatchNormalization with the running statistics;
 * `layerNorm` LayerNormalization; `groupNorm` InstanceNormalization over a grouped view plus the
 * affine; `rmsNorm` `x / sqrt(mean(x^2) + eps) * weight`; `identity` and the dropouts (`dropout`,
 * `dropout2d`, `alphaDropout`, `gaussianDropout`) nothing, as at inference.
 *
 * The state dict is the model's (`model.stateDict()`, or a checkpoint's `model`): every
 * parameter and running statistic with its shape, BatchNorm's buffers spelled either way
 * (`runningMean` or PyTorch's `running_mean`; `numBatchesTracked` / `num_batches_tracked` is
 * optional and not used). The model is built from `spec` once to resolve its options (on the
 * default device, from a private generator: the global one is untouched) and disposed again.
 * Nothing is written half-way: every check happens before the bytes are made. Browser-safe.
 *
 * @param spec the model description ({@link @gradkit/nn!describeModel}, a checkpoint's `modelSpec`),
 *   or its layer list.
 * @param stateDict the weights and buffers by key.
 * @param options input shape, batch dimension, names (see {@link ExportOnnxOptions}).
 * @returns the serialized `ModelProto`.
 * @throws {ValueError} naming the layer for a layer type with no ONNX mapping (the message lists
 *   the mapped types), a BatchNorm without running statistics, or an option it cannot export; for
 *   a state dict key that is missing, holds the wrong number of values or a non-finite value, or
 *   names nothing in the model; for bad options or a missing `inputShape`. Errors of
 *   {@link buildModel} for a description that does not build.
 * @throws {ShapeError} naming the layer and the key for a state dict entry of the wrong shape, or
 *   naming the layer for an input shape the layer cannot take.
 * @see https://onnx.ai/onnx/intro/concepts.html
 * @see https://github.com/onnx/onnx/blob/main/docs/Operators.md
 * @example
 * ```ts
 * const spec = describeModel(model);
 * const bytes = exportOnnx(spec, model.stateDict(), { inputShape: [1, 28, 28] });
 * writeFileSync('model.onnx', bytes); // Node; in a browser, a Blob download
 * // onnxruntime: (await ort.InferenceSession.create(bytes)).run({ input: x }) -> { output }
 * ```
 */
export function exportOnnx(
  spec: ModelSpec | readonly LayerSpec[],
  stateDict: StateDict,
  options: ExportOnnxOptions = {},
): Uint8Array {
  checkOptions(options);
  const state = new StateReader(stateDict);
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const batchDim = options.batchDim ?? 'batch';
  registerStandardLayers();
  const model = buildModel(spec, { rng: new Rng(0) });
  try {
    const layers = Array.isArray(spec) ? (spec as readonly LayerSpec[]) : (spec as ModelSpec).layers;
    const inputShape = options.inputShape ? [...options.inputShape] : inferInputShape(layers, model);
    if (!inputShape) {
      const first = layers.find(
        (l) => !['dropout', 'alphaDropout', 'gaussianDropout', 'identity'].includes(l.type),
      );
      throw new ValueError(
        OP,
        `inputShape is required for a model that starts with '${first?.type ?? 'nothing'}' (the shape of one sample, e.g. [1, 28, 28])`,
      );
    }
    const g = new GraphBuilder([inputName, outputName]);
    let x: GraphValue = { name: inputName, shape: inputShape };
    layers.forEach((spec, index) => {
      const where = `layer ${index} (${spec.type})`;
      const mapping = MAPPINGS[spec.type];
      const layer = model.children[index];
      if (!mapping || !(layer instanceof mapping.cls)) {
        throw new ValueError(OP, `${where} has no ONNX mapping (mapped types: ${MAPPED_TYPES.join(', ')})`);
      }
      x = mapping.map(layer, x, { g, state, index, spec, where });
    });
    state.finish();
    // the last node writes the graph output (an Identity when no node computes anything)
    if (x.name === inputName) {
      g.nodes.push({
        opType: 'Identity',
        inputs: [inputName],
        outputs: [outputName],
        name: g.fresh('Identity'),
      });
    } else {
      const last = g.nodes.findIndex((n) => n.outputs[0] === x.name);
      const node = g.nodes[last];
      g.nodes[last] = { ...node, outputs: [outputName] };
    }
    const describe: ModelSpec = Array.isArray(spec)
      ? { format: 'gradkit.sequential', version: 1, layers: spec as readonly LayerSpec[] }
      : (spec as ModelSpec);
    return modelProto({
      irVersion: ONNX_IR_VERSION,
      opset: ONNX_OPSET,
      producerName: options.producerName ?? 'gradkit',
      producerVersion: options.producerVersion ?? '',
      graphName: options.graphName ?? 'gradkit',
      docString: '',
      metadata: { 'gradkit.modelSpec': JSON.stringify(describe) },
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: inputName, dims: [batchDim, ...inputShape] }],
      outputs: [{ name: outputName, dims: [batchDim, ...x.shape] }],
    });
  } finally {
    model.dispose();
  }
}
