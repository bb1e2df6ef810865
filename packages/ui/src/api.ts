/** The registry's REST API as the page calls it: same origin, the token from sessionStorage. */

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

// --- shapes (packages/registry/src/store/types.ts) ---

export interface Model {
  name: string;
  namespace: string;
  description: string;
  visibility: 'public' | 'private';
  tags: Record<string, string>;
  aliases: Record<string, number>;
  latestVersion: number | null;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}

export interface VersionFile {
  path: string;
  sha256: string;
  size: number;
  format: string | null;
}

export interface Finding {
  severity: string;
  rule: string;
  message: string;
  location?: string;
}

export interface FileSummary {
  format?: string;
  tensors?: number;
  parameters?: number;
  bytes?: number;
  findings?: Finding[];
  error?: { code: string; message: string };
}

export interface Version {
  model: string;
  version: number;
  status: 'pending' | 'ready' | 'failed';
  description: string;
  sourceUri: string | null;
  runId: string | null;
  digest: string | null;
  files: VersionFile[];
  inspect: { files?: Record<string, FileSummary> } | null;
  scan: 'pending' | 'safe' | 'unsafe' | 'error' | 'unknown';
  scanDetail: string | null;
  tags: Record<string, string>;
  aliases: string[];
  createdAt: string;
  createdBy: string;
}

export interface Whoami {
  user: string;
  anonymous: boolean;
  scopes: string[];
}

export interface Run {
  id: string;
  name: string;
  status: string;
  startTime: string;
  endTime: string | null;
  createdBy: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: { key: string; value: number; step: number; time: string }[];
}

export interface Edge {
  src: string;
  dst: string;
  relation: 'input' | 'output' | 'derived';
}

export interface Graph {
  root: string;
  nodes: string[];
  edges: Edge[];
}

/**
 * A deployment as the registry lists it (`GET /api/v1/deployments`): the name the server serves it
 * under, the alias it follows, where the server answers and what it reported.
 */
export interface Deployment {
  name: string;
  model: string;
  alias: string;
  uri?: string;
  endpoint?: string | null;
  status?: string;
  liveVersion?: number | null;
  message?: string;
  reportedAt?: string | null;
  /** A metrics URL other than ENDPOINT/metrics (a server with --metrics-port). */
  metricsUrl?: string;
}

export interface AuditEntry {
  id: number;
  time: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
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
