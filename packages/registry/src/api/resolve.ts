import { registryError } from '../errors.js';
import { parseModelUri } from '@ferry/registry-client';
import type { RegistryDb } from '../store/registry-db.js';
import { visibleModel } from './access.js';
import type { Principal } from './auth.js';

/** `models:/NAME@ALIAS`, `models:/NAME/VERSION` or `models:/NAME` (latest ready) -> a version. */
export async function resolveUri(
  db: RegistryDb,
  principal: Principal,
  uri: string,
): Promise<{ model: string; version: number }> {
  const parsed = parseModelUri(uri);
  const model = await visibleModel(db, principal, parsed.model);
  if (parsed.alias) {
    const alias = await db.aliases.get(model, parsed.alias);
    if (!alias)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'alias', name: `${model}@${parsed.alias}` });
    return { model, version: alias.version };
  }
  if (parsed.version !== undefined) {
    const version = await db.versions.get(model, parsed.version);
    if (version?.status !== 'ready')
      throw registryError('FERRY_REGISTRY_NOT_FOUND', {
        what: 'version',
        name: `${model}/${parsed.version}`,
      });
    return { model, version: parsed.version };
  }
  const latest = (await db.models.get(model))?.latestVersion;
  if (!latest) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'ready version of', name: model });
  return { model, version: latest };
}
