import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { registryError } from '../errors.js';
import type { RegistryDb } from '../store/registry-db.js';
import type { Grant, Scope } from '../store/types.js';
import type { AuthFailureLimiter } from './auth-limiter.js';

/** Who is calling: a token's user and grants, or anonymous (public reads only). */
export interface Principal {
  readonly user: string;
  readonly grants: readonly Grant[];
  readonly anonymous: boolean;
}

export const ANONYMOUS: Principal = { user: 'anonymous', grants: [], anonymous: true };
/** `--auth none`: every caller is an admin. For local development only. */
export const LOCAL_ADMIN: Principal = {
  user: 'local',
  grants: [{ scope: 'admin', resource: '*' }],
  anonymous: false,
};

const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };
const TOKEN_PREFIX = 'ferry_';
/** A token's shape: the prefix and 32 random bytes in base64url (43 characters). */
const TOKEN_SHAPE = /^ferry_[A-Za-z0-9_-]{43}$/;

/** A new API token: 256 random bits, shown once; only its sha256 is stored. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isTokenShaped(text: string): boolean {
  return TOKEN_SHAPE.test(text);
}

/** `read:*`, `write:team/*`, `admin:team/model` -> Grant. */
export function parseGrant(text: string): Grant {
  const match =
    /^(read|write|admin):(\*|[A-Za-z0-9][A-Za-z0-9._-]*(?:\/(?:\*|[A-Za-z0-9][A-Za-z0-9._-]*))?)$/.exec(text);
  if (!match)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: `scope ${JSON.stringify(text.slice(0, 100))}`,
      reason: 'expected read|write|admin:RESOURCE where RESOURCE is *, NAMESPACE/*, NAMESPACE/NAME or NAME',
    });
  return { scope: match[1] as Scope, resource: match[2]! };
}

export const formatGrant = (g: Grant) => `${g.scope}:${g.resource}`;

/** Whether a grant's resource covers a model (`*`, `ns/*`, or the exact name). */
function covers(resource: string, model: string | null): boolean {
  if (resource === '*') return true;
  if (model === null) return false;
  if (resource.endsWith('/*')) return model.startsWith(resource.slice(0, -1));
  return resource === model;
}

/** True when the principal holds `scope` (or a higher one) on the model; null model = global. */
export function allows(principal: Principal, scope: Scope, model: string | null): boolean {
  return principal.grants.some((g) => RANK[g.scope] >= RANK[scope] && covers(g.resource, model));
}

/** True when the principal holds `scope` on anything (uploads and runs are not per model). */
export function allowsAny(principal: Principal, scope: Scope): boolean {
  return principal.grants.some((g) => RANK[g.scope] >= RANK[scope]);
}

/**
 * Resolves a bearer token to its principal. A valid token is admitted whatever its address did
 * before; a bad one counts as a failure of the address, and past the limit is answered 429.
 */
export async function authenticate(
  db: RegistryDb,
  limiter: AuthFailureLimiter,
  client: string,
  header: string | undefined,
): Promise<Principal> {
  if (header === undefined || header === '') return ANONYMOUS;
  const token = tokenOf(header);
  if (!token || !isTokenShaped(token)) {
    limiter.fail(client);
    throw registryError('FERRY_REGISTRY_UNAUTHORIZED', {
      reason:
        'the Authorization header must be "Bearer ferry_..." (or "Bearer hf_ferry_...", or Basic with the token as password)',
    });
  }
  const hash = hashToken(token);
  const found = await db.tokens.find(hash);
  // The lookup is by hash; comparing the hashes again in constant time keeps a timing side
  // channel out even if a database compared strings early-exit.
  if (!found || !timingSafeEqual(Buffer.from(found.hash, 'hex'), Buffer.from(hash, 'hex'))) {
    limiter.fail(client);
    throw registryError('FERRY_REGISTRY_UNAUTHORIZED', { reason: 'unknown or revoked token' });
  }
  return { user: found.user, grants: found.grants, anonymous: false };
}

/** The Hub's clients refuse a token that does not start with `hf_` (huggingface.js checkCredentials). */
const HUB_TOKEN_PREFIX = 'hf_';

/**
 * The ferry token in an Authorization header, in the three spellings clients send:
 * `Bearer ferry_...` (ferry), `Bearer hf_ferry_...` (a ferry token behind the prefix the Hugging Face
 * clients demand), and `Basic base64(user:ferry_...)` (MLflow's MLFLOW_TRACKING_USERNAME/PASSWORD;
 * the user name is not checked: the token names its user).
 */
export function tokenOf(header: string): string | undefined {
  const bearer = /^Bearer (\S+)$/i.exec(header)?.[1];
  if (bearer)
    return bearer.startsWith(HUB_TOKEN_PREFIX + TOKEN_PREFIX)
      ? bearer.slice(HUB_TOKEN_PREFIX.length)
      : bearer;
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header)?.[1];
  if (!basic) return undefined;
  const text = Buffer.from(basic, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  // Some clients put the token in the user name and leave the password empty.
  return text.slice(colon + 1) || text.slice(0, colon);
}
