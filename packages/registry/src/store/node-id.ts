import type { NodeId } from './types.js';

/** A version's lineage node id, the `models:/NAME/VERSION` URI the audit log also targets. */
export const versionNode = (model: string, version: number): NodeId => `models:/${model}/${version}`;
