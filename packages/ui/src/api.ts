/** The registry's REST API as the page calls it: same origin, the token from sessionStorage. */

import type { LineageEdge, LineageGraph, ModelVersion } from '@ferry/registry-client';

const TOKEN_KEY = 'ferry.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer that was not 2xx: the registry's code and message, and the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? (text.slice(0, 200) || response.statusText),
    );
  }
  return body as T;
}

export const enc = encodeURIComponent;
export const modelPath = (name: string) => `/api/v1/models/${enc(name)}`;

// --- shapes: the registry's wire types, imported as types only (nothing of the client is bundled) ---

export type {
  AuditEntry,
  Deployment,
  Model,
  Run,
  VersionFile,
  VersionSharing,
  Whoami,
} from '@ferry/registry-client';
export type Edge = LineageEdge;
export type Graph = LineageGraph;

/** One scan finding of a file, as the version's inspect summary lists it. */
export interface Finding {
  severity: string;
  rule: string;
  message: string;
  location?: string;
}

/** A model input or output as inspect reads it (a dimension may be a name, a shape unknown). */
export interface TensorSpec {
  name: string;
  dtype: string;
  shape: (number | string)[] | null;
}

/** One file's inspect summary (packages/registry/src/api/inspect-version.ts writes it). */
export interface FileSummary {
  format?: string;
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  tensors?: number;
  parameters?: number;
  bytes?: number;
  findings?: Finding[];
  error?: { code: string; message: string };
}

/** A version, with the inspect summary the wire type leaves `unknown` narrowed to what the server writes. */
export interface Version extends Omit<ModelVersion, 'inspect'> {
  readonly inspect: { files?: Record<string, FileSummary> } | null;
}

/** Version totals over its files' inspect summaries. */
export function versionTotals(v: Version): { format: string; parameters: number; findings: Finding[] } {
  const files = Object.values(v.inspect?.files ?? {});
  const formats = [...new Set(files.map((f) => f.format).filter((f): f is string => !!f))];
  return {
    format: formats.join(', ') || '-',
    parameters: files.reduce((sum, f) => sum + (f.parameters ?? 0), 0),
    findings: files.flatMap((f) => f.findings ?? []),
  };
}
