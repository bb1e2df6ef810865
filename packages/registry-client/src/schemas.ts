import {
  MAX_FILE_BYTES,
  MAX_FILES_PER_VERSION,
  MAX_ITEMS_PER_REQUEST,
  MAX_LABEL_LENGTH,
  MAX_PATH_LENGTH,
  MAX_TEXT_LENGTH,
} from './limits.js';
import type { FromSchema } from './from-schema.js';

/** JSON schemas for request bodies: unknown fields are refused (additionalProperties: false). */

const text = { type: 'string', maxLength: MAX_TEXT_LENGTH } as const;
const label = { type: 'string', minLength: 1, maxLength: MAX_LABEL_LENGTH } as const;
const stringMap = {
  type: 'object',
  maxProperties: MAX_ITEMS_PER_REQUEST,
  propertyNames: { maxLength: MAX_LABEL_LENGTH, pattern: '^[A-Za-z][A-Za-z0-9._-]*$' },
  additionalProperties: text,
} as const;
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const modelUri = { type: 'string', maxLength: 300, pattern: '^models:/' } as const;

export const SCHEMAS = {
  createModel: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      description: text,
      visibility: { enum: ['public', 'private'] },
      tags: stringMap,
    },
  },
  updateModel: {
    type: 'object',
    additionalProperties: false,
    properties: { description: text, visibility: { enum: ['public', 'private'] } },
  },
  tagValue: { type: 'object', required: ['value'], additionalProperties: false, properties: { value: text } },
  card: {
    type: 'object',
    required: ['card'],
    additionalProperties: false,
    properties: { card: { type: 'string' } },
  },
  createVersion: {
    type: 'object',
    required: ['files'],
    additionalProperties: false,
    properties: {
      files: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_FILES_PER_VERSION,
        items: {
          type: 'object',
          required: ['path', 'sha256', 'size'],
          additionalProperties: false,
          properties: {
            path: { type: 'string', minLength: 1, maxLength: MAX_PATH_LENGTH },
            sha256,
            size: { type: 'integer', minimum: 0, maximum: MAX_FILE_BYTES },
          },
        },
      },
      description: text,
      sourceUri: { type: 'string', maxLength: MAX_TEXT_LENGTH },
      runId: { type: 'string', pattern: '^[0-9a-f]{32}$' },
      tags: stringMap,
      derivedFrom: { type: 'array', maxItems: 100, items: modelUri },
      relation: { enum: ['derived'] },
      idempotencyKey: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  setAlias: {
    type: 'object',
    required: ['version'],
    additionalProperties: false,
    properties: { version: { type: 'integer', minimum: 1 }, protected: { type: 'boolean' } },
  },
  createRun: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: label,
      params: stringMap,
      tags: stringMap,
      inputs: {
        type: 'array',
        maxItems: MAX_ITEMS_PER_REQUEST,
        items: {
          type: 'object',
          required: ['name', 'digest'],
          additionalProperties: false,
          properties: { name: label, digest: { type: 'string', minLength: 1, maxLength: 200 }, source: text },
        },
      },
    },
  },
  logRun: {
    type: 'object',
    additionalProperties: false,
    properties: {
      params: stringMap,
      tags: stringMap,
      metrics: {
        type: 'array',
        maxItems: MAX_ITEMS_PER_REQUEST,
        items: {
          type: 'object',
          required: ['key', 'value'],
          additionalProperties: false,
          properties: { key: label, value: { type: 'number' }, step: { type: 'integer', minimum: 0 } },
        },
      },
      status: { enum: ['running', 'finished', 'failed', 'killed'] },
    },
  },
  addEdge: {
    type: 'object',
    required: ['src', 'dst', 'relation'],
    additionalProperties: false,
    properties: {
      src: { type: 'string', maxLength: 300 },
      dst: { type: 'string', maxLength: 300 },
      relation: { enum: ['input', 'output', 'derived'] },
    },
  },
  createToken: {
    type: 'object',
    required: ['user', 'scopes'],
    additionalProperties: false,
    properties: {
      user: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' },
      scopes: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', maxLength: 200 } },
      description: text,
    },
  },
} as const;

export const modelParam = {
  type: 'object',
  properties: { model: { type: 'string', maxLength: 200 } },
} as const;

/** Request bodies, typed from the schemas above (one declaration: the schema). */
export type CreateModelBody = FromSchema<typeof SCHEMAS.createModel>;
export type UpdateModelBody = FromSchema<typeof SCHEMAS.updateModel>;
export type CreateVersionBody = FromSchema<typeof SCHEMAS.createVersion>;
export type SetAliasBody = FromSchema<typeof SCHEMAS.setAlias>;
export type CreateRunBody = FromSchema<typeof SCHEMAS.createRun>;
export type LogRunBody = FromSchema<typeof SCHEMAS.logRun>;
export type AddEdgeBody = FromSchema<typeof SCHEMAS.addEdge>;
export type CreateTokenBody = FromSchema<typeof SCHEMAS.createToken>;
