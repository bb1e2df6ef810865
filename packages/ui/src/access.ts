/** The registry's grant check (packages/registry/src/api/auth.ts), to show only allowed actions. */

const RANK = { read: 1, write: 2, admin: 3 } as const;
export type Scope = keyof typeof RANK;

function covers(resource: string, model: string | null): boolean {
  if (resource === '*') return true;
  if (model === null) return false;
  if (resource.endsWith('/*')) return model.startsWith(resource.slice(0, -1));
  return resource === model;
}

/** True when one of `scopes` ("write:team/*") grants `scope` on the model (null: global). */
export function allows(scopes: readonly string[], scope: Scope, model: string | null): boolean {
  return scopes.some((grant) => {
    const colon = grant.indexOf(':');
    const granted = grant.slice(0, colon) as Scope;
    return (RANK[granted] ?? 0) >= RANK[scope] && covers(grant.slice(colon + 1), model);
  });
}
