import type { FastifyRequest } from 'fastify';
import { registryError } from '../../errors.js';
import { checkLabel } from '@ferry/registry-client';

/** Requests of MLflow's REST API: parameters from the JSON body or the query string, pages, tags. */

/** Results per page (MLflow's own server caps search_runs at 50,000; ferry pages by 1000). */
export const MAX_RESULTS = 1000;
export const page = (request: FastifyRequest, fallback: number) => {
  const q = {
    ...(request.query as Record<string, unknown>),
    ...((request.body as Record<string, unknown>) ?? {}),
  };
  const limit = q.max_results === undefined ? fallback : Number(q.max_results);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RESULTS)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'max_results',
      reason: `must be 1 to ${MAX_RESULTS}`,
    });
  const token = q.page_token ? String(q.page_token) : '';
  const offset = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'page_token',
      reason: 'not a token this server issued',
    });
  return {
    limit,
    offset,
    next: (total: number) =>
      offset + limit < total ? Buffer.from(String(offset + limit)).toString('base64url') : undefined,
  };
};

/** Reads a parameter from the JSON body or the query string, as MLflow's server accepts both. */
export function param(request: FastifyRequest, key: string, required = true): string | undefined {
  const body = (request.body as Record<string, unknown> | undefined) ?? {};
  const value = body[key] ?? (request.query as Record<string, unknown>)[key];
  if (value === undefined || value === null || value === '') {
    if (required)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: key,
        reason: `missing value for required parameter '${key}'`,
      });
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number')
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', { what: key, reason: 'must be a string' });
  return String(value);
}

export function versionNumber(request: FastifyRequest): number {
  const text = param(request, 'version')!;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'version',
      reason: `${JSON.stringify(text)} is not a version number`,
    });
  return Number(text);
}

export function tags(request: FastifyRequest): Record<string, string> {
  const list = ((request.body as Record<string, unknown> | undefined)?.tags ?? []) as unknown;
  if (!Array.isArray(list) || list.length > 1000)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'tags',
      reason: 'must be a list of {key, value}',
    });
  const out: Record<string, string> = {};
  for (const t of list as { key?: unknown; value?: unknown }[]) {
    if (typeof t?.key !== 'string' || (t.value !== undefined && typeof t.value !== 'string'))
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: 'tags',
        reason: 'each tag is {key: string, value: string}',
      });
    out[checkLabel('tag key', t.key)] = (t.value as string | undefined) ?? '';
  }
  return out;
}

/** A list parameter: a JSON array in the body, or the key repeated in the query string. */
export function list(request: FastifyRequest, key: string, max: number): string[] {
  const body = (request.body as Record<string, unknown> | undefined) ?? {};
  const raw = body[key] ?? (request.query as Record<string, unknown>)[key];
  const values = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  if (values.length > max || values.some((v) => typeof v !== 'string' && typeof v !== 'number'))
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: key,
      reason: `a list of up to ${max} strings`,
    });
  return values.map(String);
}
