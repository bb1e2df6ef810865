import type { Backend } from '@ferry/serving-api';
import { onnxruntimeBackend } from './onnxruntime.js';
import { savedModelBackend } from './savedmodel.js';
import { sklearnBackend } from './sklearn.js';
import { tfGraphBackend } from './tfgraph.js';
import { torchscriptBackend } from './torchscript.js';

/** Every backend, in the order a version folder's files are matched against them. Add new backends here. */
export const BACKENDS: readonly Backend[] = [
  onnxruntimeBackend,
  torchscriptBackend,
  savedModelBackend,
  tfGraphBackend,
  sklearnBackend,
];

export function backendByName(name: string): Backend | undefined {
  return BACKENDS.find((b) => b.name === name);
}

/** The backend and file that serve a version folder holding `files`, or undefined. */
export function backendForFiles(files: readonly string[]): { backend: Backend; file: string } | undefined {
  for (const backend of BACKENDS)
    for (const file of backend.fileNames) if (files.includes(file)) return { backend, file };
  return undefined;
}

export { convertingBackend, type SourceFormat } from './converting.js';
