/** Values logged for one epoch: `loss`, `accuracy`, `val_loss`, `val_accuracy`, `lr`, user metrics. */
export type EpochLogs = Record<string, number>;

/** One row of the training history. */
export interface EpochRecord {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** Optimizer updates so far. */
  readonly step: number;
  /** Seconds the epoch took (training and validation). */
  readonly seconds: number;
  /** The epoch's values: training loss and metrics, validation ones (`val_` prefix), `lr`. */
  readonly logs: EpochLogs;
}

/** What {@link Trainer.fit} returns: one record per epoch, oldest first. */
export interface History {
  /** The epochs, oldest first (a resumed run's earlier epochs included). */
  readonly epochs: readonly EpochRecord[];
  /** Why training stopped: `'completed'`, or the reason a callback gave. */
  readonly stopReason: string;
}

/** Progress of one training batch, for callbacks. */
export interface BatchInfo {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** 0-based batch index within the epoch. */
  readonly batch: number;
  /** Batches in this epoch. */
  readonly numBatches: number;
  /** Optimizer updates so far (after this batch). */
  readonly step: number;
  /**
   * This batch's loss (data loss plus penalties). The trainer reads losses from the device every
   * `lossReadInterval` steps; reading this property before then reads the pending losses now
   * (one synchronous read-back). Callbacks that only need losses from time to time use
   * {@link Callback.onLossesRead} instead, which costs nothing extra. On a backend without
   * synchronous reads (`syncRead: 'none'`) reading it early throws.
   */
  readonly loss: number;
  /** Samples in this batch. */
  readonly size: number;
}

/** One training batch's loss, as {@link Callback.onLossesRead} receives it. */
export interface BatchLoss {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** 0-based batch index within the epoch. */
  readonly batch: number;
  /** Optimizer updates after this batch. */
  readonly step: number;
  /** The batch's loss (data loss plus penalties). */
  readonly loss: number;
  /** Samples in the batch. */
  readonly size: number;
}
