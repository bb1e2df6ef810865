import { detectHandler } from './detect.js';
import type { OpenedModel, OpenOptions } from './model.js';

/** Detects a model's format and opens it; the caller closes it. */
export async function openModel(path: string, options: OpenOptions = {}): Promise<OpenedModel> {
  const handler = await detectHandler(path);
  return handler.open(path, options);
}
