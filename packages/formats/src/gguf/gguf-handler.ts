import { finding } from '../finding-kinds.js';
import type { Finding, FormatHandler, OpaqueTensor, OpenedModel } from '../model.js';
import { type ByteSource, FileSource } from '../tensor/byte-source.js';
import type { TensorRef } from '../tensor/tensor-ref.js';
import { arraySummary, scalarText } from './metadata-text.js';
import { type GgufFile, hasGgufMagic, readGguf } from './read-gguf.js';

/**
 * GGUF (llama.cpp): metadata scalars become string metadata, arrays are summarised in details,
 * unquantized tensors are TensorRefs (shape in C order: GGUF stores dims innermost-first, so they
 * are reversed), quantized ones are opaque with their block layout.
 */
export const ggufHandler: FormatHandler = {
  name: 'gguf',
  detect: (probe) => !probe.isDirectory && hasGgufMagic(probe.head),
  async open(path) {
    const source = await FileSource.open(path);
    try {
      return modelFromGguf(path, await readGguf(source), source);
    } catch (error) {
      await source.close();
      throw error;
    }
  },
};

export function modelFromGguf(path: string, file: GgufFile, source: ByteSource): OpenedModel {
  const tensors: TensorRef[] = [];
  const opaque: OpaqueTensor[] = [];
  const typeCounts: Record<string, number> = {};
  const findings: Finding[] = [];
  for (const info of file.tensors) {
    typeCounts[info.type.name] = (typeCounts[info.type.name] ?? 0) + 1;
    if (info.type.dtype) {
      tensors.push({
        name: info.name,
        dtype: info.type.dtype,
        shape: info.shape,
        source,
        offset: info.offset,
        byteLength: info.byteLength,
        ...(file.byteOrder === 'big' && { byteOrder: 'big' as const }),
      });
    } else {
      opaque.push({
        name: info.name,
        type: info.type.name,
        shape: info.shape,
        byteLength: info.byteLength,
        reason: `GGML ${info.type.name} blocks (${info.type.blockSize} elements in ${info.type.typeSize} bytes); ferry does not dequantize`,
      });
    }
    if (info.type.removed) {
      findings.push(
        finding(
          'gguf-removed-type',
          `tensor ${info.name} uses ${info.type.name}, ${info.type.removed}; current llama.cpp will not load it`,
          info.name,
        ),
      );
    }
  }
  for (const gap of file.gaps) {
    findings.push(
      finding(
        'gguf-data-gap',
        `${gap.bytes} unused bytes in the data section that no tensor covers`,
        `byte ${gap.offset}`,
      ),
    );
  }
  const metadata: Record<string, string> = {};
  const arrays: Record<string, string> = {};
  for (const kv of file.metadata) {
    if (typeof kv.value === 'object') arrays[kv.key] = arraySummary(kv.value);
    else metadata[kv.key] = scalarText(kv.type, kv.value);
  }
  return {
    format: 'gguf',
    path,
    tensors,
    ...(opaque.length > 0 && { opaque }),
    metadata,
    details: {
      version: file.version,
      byteOrder: file.byteOrder,
      alignment: file.alignment,
      dataOffset: file.dataOffset,
      tensorCount: file.tensors.length,
      metadataCount: file.metadata.length,
      ggmlTypes: typeCounts,
      ...(Object.keys(arrays).length > 0 && { arrays }),
    },
    ...(findings.length > 0 && { findings }),
    close: () => source.close(),
  };
}
