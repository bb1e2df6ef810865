/** The registry's data model as the API returns it (its wire types); the server and the UI use these. */

export type Visibility = 'public' | 'private';
export type VersionStatus = 'pending' | 'ready' | 'failed';
/**
 * The worst of the version's files: `unsafe`: something that runs code on load; `error`: a file
 * could not be read or parsed to its end; `unknown`: a file is no format ferry recognises; `safe`:
 * every file read whole and judged safe. Only `safe` downloads without `?force`.
 */
export type ScanVerdict = 'pending' | 'safe' | 'unsafe' | 'error' | 'unknown';

export interface Model {
  readonly name: string;
  readonly namespace: string;
  readonly description: string;
  readonly visibility: Visibility;
  readonly tags: Readonly<Record<string, string>>;
  readonly aliases: Readonly<Record<string, number>>;
  readonly latestVersion: number | null;
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

/** What the serving side says about a deployment. */
export const DEPLOYMENT_STATUSES = ['pending', 'serving', 'failed'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/**
 * A deployment: `models:/MODEL@ALIAS` plus serving config. A server that serves it follows the
 * alias and reports back which version is live (or that loading the aliased one failed), so the
 * registry answers where each version is deployed.
 */
export interface Deployment {
  /** The name the model is served under (the inference server's model name). */
  readonly name: string;
  readonly model: string;
  readonly alias: string;
  readonly uri: string;
  /** Serving config (the fields of the server's config.yaml), or null for the model's defaults. */
  readonly config: Record<string, unknown> | null;
  /** Where the server that reported last answers (e.g. http://127.0.0.1:8000). */
  readonly endpoint: string | null;
  readonly status: DeploymentStatus;
  /** The version serving now, as the server reported it. */
  readonly liveVersion: number | null;
  /** The last report's detail: why a load failed, or empty. */
  readonly message: string;
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
