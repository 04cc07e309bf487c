// What the page and the training code say to each other, the same whether training runs in a Web
// Worker (messages) or on the page's thread (function calls).

/** The models the page offers. */
export type ModelName = 'mlp' | 'lenet5';

/** A backend the training code can be asked to use. */
export type BackendChoice = 'wasm' | 'gl' | 'cpu';

/** What one training run does. */
export interface TrainOptions {
  readonly model: ModelName;
  readonly epochs: number;
  /** Adam's learning rate. */
  readonly lr: number;
  readonly batchSize: number;
  /** How many of the subset's training images to use (the first ones). */
  readonly trainImages: number;
  /** Seed of the initial weights and of the shuffling. */
  readonly seed: number;
}

/** What the training code reports about its device. */
export interface EngineInfo {
  /** `backendInfo()` of the device the model lives on. */
  readonly backend: {
    readonly name: string;
    readonly reason: string;
    readonly gpuMode: string;
    readonly renderer: string;
    readonly softwareRenderer?: boolean;
  };
  /** Where the training loop runs. */
  readonly thread: 'worker' | 'page';
  /** `crossOriginIsolated` where the training runs (SharedArrayBuffer, wasm threads). */
  readonly crossOriginIsolated: boolean;
  /** Training and test images available. */
  readonly trainCount: number;
  readonly testCount: number;
  /** Where the images came from. */
  readonly source: string;
}

/** Progress during training: one point of the chart (means over the steps since the last one). */
export interface ProgressEvent {
  readonly type: 'progress';
  readonly epoch: number;
  readonly epochs: number;
  /** Steps done in this epoch, and per epoch. */
  readonly step: number;
  readonly steps: number;
  /** Steps done in the whole run. */
  readonly totalStep: number;
  /** Mean training loss and accuracy over the steps since the last progress event. */
  readonly loss: number;
  readonly accuracy: number;
  readonly elapsedMs: number;
}

/** The end of an epoch, with the test set's accuracy. */
export interface EpochEvent {
  readonly type: 'epoch';
  readonly epoch: number;
  readonly testAccuracy: number;
  readonly testLoss: number;
  readonly elapsedMs: number;
}

/** A whole run's result. */
export interface TrainResult {
  readonly testAccuracy: number;
  readonly testLoss: number;
  /** Whether the run was stopped before its last epoch ended. */
  readonly stopped: boolean;
  readonly steps: number;
  readonly ms: number;
  /** Live tensors after the run (flat from run to run: nothing leaks). */
  readonly liveTensors: number;
}

export type TrainEvent = ProgressEvent | EpochEvent;

/** Page -> worker. */
export type Request =
  | { readonly id: number; readonly type: 'init'; readonly backend: BackendChoice; readonly base: string }
  | { readonly id: number; readonly type: 'train'; readonly options: TrainOptions }
  | { readonly id: number; readonly type: 'predict'; readonly pixels: Float32Array }
  | { readonly id: number; readonly type: 'stop' };

/** Worker -> page: the answer to request `id`, or an event of the running training. */
export type Reply =
  | { readonly id: number; readonly type: 'ok'; readonly value: unknown }
  | { readonly id: number; readonly type: 'error'; readonly message: string }
  | { readonly id: -1; readonly type: 'event'; readonly event: TrainEvent };
