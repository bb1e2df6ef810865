import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { inspectModel } from '../../src/inspect.js';
import { openModel } from '../../src/open.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { dtypeFromOnnx } from '../../src/tensor/dtype.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';

const FIXTURES = new URL('../../../../fixtures/onnx/', import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

interface ExpectedTensor {
  dtype?: string;
  onnx_type?: string;
  shape: number[];
  bytes_b64?: string;
}
interface ExpectedModel {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  opset_import: Record<string, number>;
  metadata_props: Record<string, string>;
  nodes: number;
  op_types: string[];
  inputs: { name: string; elem_type: number; shape: (number | string)[] }[];
  outputs: { name: string; elem_type: number; shape: (number | string)[] }[];
  initializers: Record<string, ExpectedTensor>;
}

const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as Record<string, ExpectedModel>;

describe('ONNX models made by torch.onnx.export and onnx.helper', () => {
  it.each(Object.keys(expected))(
    '%s: detected, inspected and every initializer read as onnx computed it',
    async (name) => {
      const want = expected[name]!;
      expect(await detectFormat(fixture(name))).toBe('onnx');
      const model = await openModel(fixture(name));
      try {
        expect(model.format).toBe('onnx');
        expect(model.details).toMatchObject({
          ir_version: want.ir_version,
          producer_name: want.producer_name,
          producer_version: want.producer_version,
          opset_import: want.opset_import,
          nodes: want.nodes,
          initializers: Object.keys(want.initializers).length,
        });
        const histogram = model.details!.op_types as Record<string, number>;
        const ops: string[] = [];
        for (const [op, count] of Object.entries(histogram)) for (let i = 0; i < count; i++) ops.push(op);
        expect(ops.sort()).toEqual(want.op_types);
        expect(model.metadata).toEqual(want.metadata_props);
        const spec = (v: ExpectedModel['inputs'][number]) => ({
          name: v.name,
          dtype: dtypeFromOnnx(v.elem_type),
          shape: v.shape,
        });
        expect(model.inputs).toEqual(want.inputs.map(spec));
        expect(model.outputs).toEqual(want.outputs.map(spec));

        const dense = Object.entries(want.initializers).filter(([, t]) => t.dtype);
        expect(model.tensors.map((t) => t.name).sort()).toEqual(dense.map(([n]) => n).sort());
        for (const [tensorName, t] of dense) {
          const ref = model.tensors.find((r) => r.name === tensorName)!;
          expect(ref.dtype).toBe(t.dtype);
          expect(ref.shape).toEqual(t.shape);
          const bytes = await readTensorBytes(ref);
          expect(Buffer.from(bytes).toString('base64'), tensorName).toBe(t.bytes_b64);
        }
        const opaque = Object.entries(want.initializers).filter(([, t]) => t.onnx_type);
        expect((model.opaque ?? []).map((o) => [o.name, o.type, o.shape])).toEqual(
          opaque.map(([n, t]) => [n, t.onnx_type, t.shape]),
        );
        expect(model.findings).toBeUndefined();
      } finally {
        await model.close();
      }
    },
  );

  it('keeps raw_data as zero-copy views of the file and external data as ranges of the data file', async () => {
    const inline = await openModel(fixture('cnn.onnx'));
    for (const ref of inline.tensors) expect(ref.source).toBeInstanceOf(BufferSource);
    const file = readFileSync(fixture('cnn.onnx'));
    const first = inline.tensors[0]!;
    expect(Buffer.from(await readTensorBytes(first))).toEqual(
      file.subarray(first.offset, first.offset + first.byteLength),
    );

    const external = await openModel(fixture('cnn_external.onnx'));
    expect(external.details!.external_data).toBe(true);
    const data = readFileSync(fixture('cnn_external.onnx.data'));
    for (const ref of external.tensors) {
      expect(ref.source.name.endsWith('cnn_external.onnx.data')).toBe(true);
      expect(ref.offset + ref.byteLength).toBeLessThanOrEqual(data.length);
    }
  });

  it('reports symbolic dims, metadata and the model strings', async () => {
    const report = await inspectModel(fixture('mlp_metadata.onnx'));
    expect(report.format).toBe('onnx');
    expect(report.inputs).toEqual([{ name: 'x', dtype: 'F32', shape: ['batch', 4] }]);
    expect(report.metadata).toEqual({ author: 'ferry fixtures', license: 'MIT', task: 'regression' });
    expect(report.details).toMatchObject({
      domain: 'dev.ferry.fixtures',
      model_version: 7,
      doc_string: 'a 4-8-3 MLP made by fixtures/make/onnx_models.py',
      op_types: { Gemm: 2, Relu: 1 },
    });
    // 4x8 + 8 + 8x3 + 3 parameters.
    expect(report.parameters).toBe(67);
    expect(report.details!.parameters).toBe(67);
    expect(report.details!.initializer_bytes).toBe(67 * 4);
  });
});
