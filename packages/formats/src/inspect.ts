import type { Finding, FormatName, OpaqueTensor, OpenOptions, Signature, TensorSpec } from './model.js';
import { openModel } from './open.js';
import { dtypeSize } from './tensor/dtype.js';
import { numel } from './tensor/tensor-ref.js';

export interface InspectedTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: number;
}

/** What `ferry inspect --json` prints: the same shape for every format. */
export interface InspectReport {
  readonly path: string;
  readonly format: FormatName;
  readonly tensors: readonly InspectedTensor[];
  /** Elements over all tensors, opaque (quantized) ones included. */
  readonly parameters: number;
  readonly bytes: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputs?: readonly TensorSpec[];
  readonly outputs?: readonly TensorSpec[];
  readonly signatures?: readonly Signature[];
  readonly opaque?: readonly OpaqueTensor[];
  readonly details?: Readonly<Record<string, unknown>>;
  readonly findings?: readonly Finding[];
}

export async function inspectModel(path: string, options: OpenOptions = {}): Promise<InspectReport> {
  const model = await openModel(path, options);
  try {
    const tensors: InspectedTensor[] = model.tensors.map((t) => ({
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      bytes: numel(t.shape) * dtypeSize(t.dtype),
    }));
    const opaque = model.opaque ?? [];
    const parameters =
      tensors.reduce((sum, t) => sum + numel(t.shape), 0) +
      opaque.reduce((sum, t) => sum + numel(t.shape), 0);
    const bytes =
      tensors.reduce((sum, t) => sum + t.bytes, 0) + opaque.reduce((sum, t) => sum + t.byteLength, 0);
    return {
      path,
      format: model.format,
      tensors,
      parameters,
      bytes,
      metadata: model.metadata,
      ...(model.inputs && { inputs: model.inputs }),
      ...(model.outputs && { outputs: model.outputs }),
      ...(model.signatures && { signatures: model.signatures }),
      ...(opaque.length > 0 && { opaque }),
      ...(model.details && { details: model.details }),
      ...(model.findings && { findings: model.findings }),
    };
  } finally {
    await model.close();
  }
}
