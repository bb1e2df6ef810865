import { registryError } from '../errors.js';
import { parseModelName } from '@ferry/registry-client';
import type { RegistryDb } from '../store/registry-db.js';
import type { Scope } from '../store/types.js';
import { allows, type Principal } from './auth.js';

/**
 * The model a caller may see, else 404: a private model the caller cannot read answers exactly
 * like a missing one, so its name does not leak.
 */
export async function visibleModel(db: RegistryDb, principal: Principal, name: string): Promise<string> {
  const full = parseModelName(name).full;
  const row = await db.models.find(full);
  if (!row || (row.visibility === 'private' && !allows(principal, 'read', full)))
    throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'model', name: full });
  return full;
}

/** The model, visible and with `scope` (write or admin) granted, else 404 or 403. */
export async function modelWith(
  db: RegistryDb,
  principal: Principal,
  name: string,
  scope: Scope,
): Promise<string> {
  const full = await visibleModel(db, principal, name);
  requireScope(principal, scope, full);
  return full;
}

export function requireScope(principal: Principal, scope: Scope, model: string | null): void {
  if (allows(principal, scope, model)) return;
  if (principal.anonymous)
    throw registryError('FERRY_REGISTRY_UNAUTHORIZED', {
      reason: `${scope} access needs a token (Authorization: Bearer ferry_...)`,
    });
  throw registryError('FERRY_REGISTRY_FORBIDDEN', {
    actor: principal.user,
    scope,
    resource: model ?? 'the registry',
  });
}
