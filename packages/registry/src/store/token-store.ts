import { randomUUID } from 'node:crypto';
import { registryError } from '../errors.js';
import { recordAudit } from './audit-store.js';
import type { MetadataStore, Queryable, Row } from './metadata-store.js';
import { now } from './sql-values.js';
import type { Grant, TokenInfo } from './types.js';

const ADMIN_GRANTS: readonly Grant[] = [{ scope: 'admin', resource: '*' }];

const toToken = (r: Row): TokenInfo => ({
  id: String(r.id),
  user: String(r.user_name),
  grants: JSON.parse(String(r.scopes)),
  description: String(r.description),
  createdAt: String(r.created_at),
});

/** Users and their API tokens (`users`, `tokens`); a token is stored as its hash, never itself. */
export class TokenStore {
  constructor(private readonly store: MetadataStore) {}

  /** Stores a token's hash (never the token) for a user, creating the user when new. */
  async create(
    actor: string,
    user: string,
    tokenHash: string,
    grants: readonly Grant[],
    description = '',
  ): Promise<TokenInfo> {
    const id = randomUUID();
    const time = now();
    await this.store.transaction(async (tx) => {
      await ensureUser(tx, user, time);
      await insertToken(tx, id, user, tokenHash, grants, description, time);
      await recordAudit(tx, actor, 'token.create', `user:${user}`, null, { id, grants, description });
    });
    return { id, user, grants, description, createdAt: time };
  }

  /** Creates the first admin token only when no token exists yet; false when another server won. */
  async createFirstAdmin(tokenHash: string): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      if (this.store.dialect === 'postgres') await tx.query('LOCK TABLE tokens IN EXCLUSIVE MODE');
      if ((await tx.query('SELECT 1 AS x FROM tokens LIMIT 1'))[0]) return false;
      const time = now();
      const description = 'first-start admin token';
      await ensureUser(tx, 'admin', time);
      await insertToken(tx, randomUUID(), 'admin', tokenHash, ADMIN_GRANTS, description, time);
      await recordAudit(tx, 'system', 'token.create', 'user:admin', null, {
        grants: ADMIN_GRANTS,
        description,
      });
      return true;
    });
  }

  async find(tokenHash: string): Promise<(TokenInfo & { hash: string }) | undefined> {
    const r = (await this.store.query('SELECT * FROM tokens WHERE token_hash = ?', [tokenHash]))[0];
    return r ? { ...toToken(r), hash: String(r.token_hash) } : undefined;
  }

  async list(user?: string): Promise<TokenInfo[]> {
    const rows = await this.store.query(
      `SELECT * FROM tokens${user ? ' WHERE user_name = ?' : ''} ORDER BY created_at`,
      user ? [user] : [],
    );
    return rows.map(toToken);
  }

  async delete(actor: string, id: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const before = (await tx.query('SELECT user_name, scopes FROM tokens WHERE id = ?', [id]))[0];
      if (!before) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'token', name: id });
      await tx.query('DELETE FROM tokens WHERE id = ?', [id]);
      await recordAudit(
        tx,
        actor,
        'token.delete',
        `user:${before.user_name}`,
        { id, scopes: before.scopes },
        null,
      );
    });
  }
}

async function ensureUser(tx: Queryable, user: string, time: string): Promise<void> {
  if (!(await tx.query('SELECT 1 AS x FROM users WHERE name = ?', [user]))[0])
    await tx.query('INSERT INTO users (name, created_at) VALUES (?, ?)', [user, time]);
}

async function insertToken(
  tx: Queryable,
  id: string,
  user: string,
  tokenHash: string,
  grants: readonly Grant[],
  description: string,
  time: string,
): Promise<void> {
  await tx.query(
    'INSERT INTO tokens (id, user_name, token_hash, scopes, description, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [id, user, tokenHash, JSON.stringify(grants), description, time],
  );
}
