import type { Model, ModelVersion } from '../../store/types.js';

/** MLflow's JSON shapes (mlflow/protos/model_registry.proto), built from ferry's records. */

const ms = (iso: string) => Date.parse(iso);
const tagList = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));
/** MLflow's stages as ferry aliases: a version holding the alias is in the stage (docs/registry.md). */
export const STAGE_ALIASES = { Staging: 'staging', Production: 'production' } as const;

function stageOf(v: ModelVersion): string {
  if (v.aliases.includes(STAGE_ALIASES.Production)) return 'Production';
  if (v.aliases.includes(STAGE_ALIASES.Staging)) return 'Staging';
  return 'None';
}

const STATUS = { ready: 'READY', pending: 'PENDING_REGISTRATION', failed: 'FAILED_REGISTRATION' } as const;

export function mlflowVersion(v: ModelVersion, baseUrl: string) {
  return {
    name: v.model,
    version: String(v.version),
    creation_timestamp: ms(v.createdAt),
    last_updated_timestamp: ms(v.updatedAt),
    user_id: v.createdBy,
    current_stage: stageOf(v),
    description: v.description,
    source: v.sourceUri ?? downloadUri(v, baseUrl),
    ...(v.runId && { run_id: v.runId }),
    status: STATUS[v.status],
    ...(v.scan === 'unsafe' && { status_message: `ferry scan: unsafe (${v.scanDetail})` }),
    tags: tagList(v.tags),
    aliases: [...v.aliases],
  };
}

export function mlflowModel(m: Model, latest: ModelVersion | undefined, baseUrl: string) {
  return {
    name: m.name,
    creation_timestamp: ms(m.createdAt),
    last_updated_timestamp: ms(m.updatedAt),
    user_id: m.createdBy,
    description: m.description,
    ...(latest && { latest_versions: [mlflowVersion(latest, baseUrl)] }),
    tags: tagList(m.tags),
    aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version: String(version) })),
  };
}

/** Where a version's files are: ferry's own download route (or the source an MLflow client registered). */
export function downloadUri(v: ModelVersion, baseUrl: string): string {
  if (v.files.length === 0 && v.sourceUri) return v.sourceUri;
  return `${baseUrl}/api/v1/models/${encodeURIComponent(v.model)}/versions/${v.version}/files/`;
}
