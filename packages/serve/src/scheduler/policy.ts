/** How one model version's requests are queued and grouped (config.yaml `dynamic_batching`). */
export interface BatchingPolicy {
  /** Largest batch along dimension 0; 0 = the model has no batch dimension, requests run one at a time. */
  readonly maxBatchSize: number;
  /** How long the oldest request may wait for others to join its batch (Triton's max_queue_delay_microseconds). */
  readonly maxQueueDelayUs: number;
  /** Batch sizes to form when possible (e.g. sizes a runtime is tuned for). */
  readonly preferredBatchSizes: readonly number[];
  /** Requests waiting beyond this are refused at once with 503 instead of growing memory. */
  readonly maxQueueSize: number;
  /** A queued request not started within this many microseconds fails with 503; 0 = no limit. */
  readonly defaultTimeoutUs: number;
}

/** What the scheduler reports; the metrics module implements it per model version. */
export interface SchedulerObserver {
  pendingChanged(pending: number): void;
  queued(seconds: number): void;
  executed(rows: number, requests: number, seconds: number): void;
}
