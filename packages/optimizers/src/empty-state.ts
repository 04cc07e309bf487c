/** The state of a stateless transformation: an empty record. */
export type EmptyState = Record<string, never>;

/** A step counter, the state of schedule-driven transformations. */
export interface CountState {
  /** Updates done so far (the schedule's step for the next update). */
  readonly count: number;
}
