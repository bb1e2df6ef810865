import type { FerryError } from '../errors.js';
import type { FindingKind } from '../finding-kinds.js';
import type { PickleInput } from './input.js';
import type { PickleValue, PyCall, PyGlobal } from './values.js';

export interface Anomaly {
  readonly offset: number;
  readonly rule: FindingKind;
  readonly message: string;
}

export interface MachineOptions {
  /**
   * Called after BUILD on a call result; may consume raw bytes that follow in the stream
   * (joblib writes array data right after a NumpyArrayWrapper's BUILD) and replace the object.
   * Returns the new stream position and replacement, or undefined to leave both.
   */
  readonly afterBuild?: (
    call: PyCall,
    position: number,
    input: PickleInput,
  ) => { position: number; value: PickleValue } | undefined;
  /** Lower limits for tests. */
  readonly maxObjects?: number;
}

export interface PickleResult {
  readonly value: PickleValue;
  /** Absolute offset of the PROTO opcode (or first opcode) and one past STOP. */
  readonly start: number;
  readonly end: number;
  readonly protocol: number;
  /** Every global the stream named, every call it would make, in stream order. */
  readonly globals: readonly PyGlobal[];
  readonly calls: readonly PyCall[];
  readonly anomalies: readonly Anomaly[];
}

/** What a pickle did up to the point it failed: CPython would have run all of that first. */
export interface PartialRun {
  readonly globals: readonly PyGlobal[];
  readonly calls: readonly PyCall[];
  readonly anomalies: readonly Anomaly[];
  readonly error?: FerryError;
}
