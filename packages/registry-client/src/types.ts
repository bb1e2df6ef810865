/** The registry's data model as the API and client see it. */

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
