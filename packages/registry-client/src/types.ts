/** The registry's data model as the API returns it (its wire types); the server and the UI use these. */

export type Visibility = 'public' | 'private';
export type VersionStatus = 'pending' | 'ready' | 'failed';
/**
 * The worst of the version's files: `unsafe`: something that runs code on load; `error`: a file
 * could not be read or parsed to its end; `unknown`: a file is no format ferry recognises; `safe`:
 * every file read whole and judged safe. Only `safe` downloads without `?force`.
 */
export type ScanVerdict = 'pending' | 'safe' | 'unsafe' | 'invalid' | 'error' | 'unknown';

export interface Model {
  readonly name: string;
  readonly namespace: string;
  readonly description: string;
  readonly visibility: Visibility;
  readonly tags: Readonly<Record<string, string>>;
  readonly aliases: Readonly<Record<string, number>>;
  readonly latestVersion: number | null;
  /** The latest version's scan verdict (null with no ready version): lists mark an unsafe model. */
  readonly latestScan: ScanVerdict | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly createdBy: string;
}

export interface VersionFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly format: string | null;
}

export interface ModelVersion {
  readonly model: string;
  readonly version: number;
  readonly status: VersionStatus;
  readonly description: string;
  readonly sourceUri: string | null;
  readonly runId: string | null;
  /** sha256 over the sorted file list: a commit-like id for the version's content. */
  readonly digest: string | null;
  readonly files: readonly VersionFile[];
  readonly inspect: unknown;
  readonly scan: ScanVerdict;
  readonly scanDetail: string | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly aliases: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly createdBy: string;
}

export interface Alias {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly protected: boolean;
  readonly updatedAt: string;
}

export type RunStatus = 'running' | 'finished' | 'failed' | 'killed';

export interface Metric {
  readonly key: string;
  readonly value: number;
  readonly step: number;
  readonly time: string;
}

export interface Run {
  readonly id: string;
  readonly name: string;
  readonly status: RunStatus;
  readonly startTime: string;
  readonly endTime: string | null;
  readonly createdBy: string;
  readonly params: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly metrics: readonly Metric[];
}

export interface Dataset {
  readonly id: string;
  readonly name: string;
  readonly digest: string;
  readonly source: string | null;
  readonly createdAt: string;
}

/** A lineage node id: `dataset:ID`, `run:ID` or `models:/NAME/VERSION`. */
export type NodeId = string;
export type EdgeRelation = 'input' | 'output' | 'derived';

export interface LineageEdge {
  readonly src: NodeId;
  readonly dst: NodeId;
  readonly relation: EdgeRelation;
}

export interface LineageGraph {
  readonly root: NodeId;
  readonly nodes: readonly NodeId[];
  readonly edges: readonly LineageEdge[];
}

export interface AuditEntry {
  readonly id: number;
  readonly time: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly before: unknown;
  readonly after: unknown;
}

export type Scope = 'read' | 'write' | 'admin';

/** `read:*`, `write:team/*`, `admin:team/model`. */
export interface Grant {
  readonly scope: Scope;
  readonly resource: string;
}

export interface TokenInfo {
  readonly id: string;
  readonly user: string;
  readonly grants: readonly Grant[];
  readonly description: string;
  readonly createdAt: string;
}

/** The caller as `GET /api/v1/whoami` answers: the user, and the grants as `scope:resource`. */
export interface Whoami {
  readonly user: string;
  readonly anonymous: boolean;
  readonly scopes: readonly string[];
}

/**
 * What the serving side says about a deployment. `offline`: no server serving it has sent a
 * heartbeat within the registry's expiry (or the last one said it stopped); `pending`: none has
 * reported yet.
 */
export const DEPLOYMENT_STATUSES = ['pending', 'serving', 'failed', 'offline'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** One server serving a deployment, as its last heartbeat said (or `offline` once it expired). */
export interface DeploymentEndpoint {
  /** Where that server answers (e.g. http://127.0.0.1:8000); null for a server without REST. */
  readonly endpoint: string | null;
  readonly status: DeploymentStatus;
  readonly liveVersion: number | null;
  readonly message: string;
  readonly reportedAt: string;
}

/**
 * A deployment: `models:/MODEL@ALIAS` plus serving config. Every server that serves it follows the
 * alias and reports back, with a heartbeat, which version is live (or that loading the aliased one
 * failed), so the registry answers where each version is deployed and which servers are gone.
 */
export interface Deployment {
  /** The name the model is served under (the inference server's model name). */
  readonly name: string;
  readonly model: string;
  readonly alias: string;
  readonly uri: string;
  /** Serving config (the fields of the server's config.yaml), or null for the model's defaults. */
  readonly config: Record<string, unknown> | null;
  /** Every server that has reported serving it, each with its own state (expired ones `offline`). */
  readonly endpoints: readonly DeploymentEndpoint[];
  /** The first endpoint serving it now (null when none is). */
  readonly endpoint: string | null;
  /** Across endpoints: `serving` if any serves, else `failed` if any live one failed, else `offline`; `pending` before any report. */
  readonly status: DeploymentStatus;
  /** The newest version a live endpoint serves (null when none is live). */
  readonly liveVersion: number | null;
  /** Why it failed or went offline, or empty. */
  readonly message: string;
  /** The newest heartbeat of any endpoint. */
  readonly reportedAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly createdBy: string;
}

/** What a version shares with others, over its distinct stored chunks (issue #20). */
export interface VersionSharing {
  readonly model: string;
  readonly version: number;
  /** The files' total size. */
  readonly size: number;
  /** Bytes of the version's distinct chunks. */
  readonly bytes: number;
  /** Of those, bytes some other version of any model also uses. */
  readonly sharedWithAny: number;
  /** Of those, bytes the parent also uses. */
  readonly sharedWithParent: number;
  /** The version it was derived from (lineage), else the model's previous version; null: none. */
  readonly parent: string | null;
}
