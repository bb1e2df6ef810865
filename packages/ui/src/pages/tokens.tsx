import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { ErrorBox, Loading } from '../components/status.js';
import { formatTime } from '../format.js';
import { useApi } from '../hooks.js';

/** A token as GET /api/v1/tokens lists it: never its value (only its sha256 is stored). */
interface ListedToken {
  id: string;
  user: string;
  scopes: string[];
  description: string;
  createdAt: string;
}

/** The registry's rule for a user name (SCHEMAS.createToken). */
const USER = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * API tokens (global admins): list, create (the value is shown once, here), revoke with a
 * confirmation. Scopes are `read|write|admin:RESOURCE`, e.g. `read:*`, `write:vision/*`.
 */
export function TokensPage() {
  const list = useApi<{ tokens: ListedToken[] }>('/api/v1/tokens');
  const [user, setUser] = useState('');
  const [scopes, setScopes] = useState('read:*');
  const [description, setDescription] = useState('');
  const [made, setMade] = useState<{ user: string; token: string } | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [revoking, setRevoking] = useState<ListedToken | undefined>();
  const [notice, setNotice] = useState('');
  const scopeList = scopes
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return (
    <section>
      <h1>Tokens</h1>
      <h2>New token</h2>
      <form
        class="filters new-token"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          setNotice('');
          try {
            const answer = await api<{ token: string; user: string }>('/api/v1/tokens', {
              method: 'POST',
              body: { user, scopes: scopeList, ...(description && { description }) },
            });
            setMade({ user: answer.user, token: answer.token });
            setUser('');
            setDescription('');
            list.reload();
          } catch (err) {
            setError(err as Error);
          }
        }}
      >
        <label>
          User
          <input
            name="token-user"
            value={user}
            required
            placeholder="ci-bot"
            onInput={(e) => setUser(e.currentTarget.value)}
          />
        </label>
        <label>
          Scopes
          <input
            name="token-scopes"
            value={scopes}
            required
            placeholder="read:* write:vision/*"
            onInput={(e) => setScopes(e.currentTarget.value)}
          />
        </label>
        <label>
          Description
          <input
            name="token-description"
            value={description}
            placeholder="what it is for"
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary" disabled={!USER.test(user) || scopeList.length === 0}>
          Create token
        </button>
      </form>
      <p class="muted small">
        Scopes: <code>read</code>, <code>write</code> or <code>admin</code>, then <code>:</code> and a model
        name, a namespace pattern (<code>vision/*</code>) or <code>*</code>; separate several with spaces.
      </p>
      <ErrorBox error={error} />
      {made ? (
        <div class="notice new-token-value" role="status">
          Token for {made.user} (shown once, copy it now): <code class="wrap">{made.token}</code>
        </div>
      ) : null}
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}

      <h2>Tokens</h2>
      <ErrorBox error={list.error} />
      {!list.data && !list.error ? <Loading what="tokens" /> : null}
      {list.data ? (
        <div class="table-wrap">
          <table class="tokens">
            <thead>
              <tr>
                <th>User</th>
                <th>Scopes</th>
                <th>Description</th>
                <th>Created</th>
                <th>
                  <span class="visually-hidden">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.tokens.map((t) => (
                <tr key={t.id} data-token={t.id}>
                  <td>{t.user}</td>
                  <td>
                    {t.scopes.map((s) => (
                      <code key={s} class="badge tag">
                        {s}
                      </code>
                    ))}
                  </td>
                  <td>{t.description || '-'}</td>
                  <td class="nowrap">{formatTime(t.createdAt)}</td>
                  <td>
                    <button type="button" onClick={() => setRevoking(t)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {revoking ? (
        <ConfirmDialog
          title="Revoke token"
          message={`The token of ${revoking.user} (${revoking.scopes.join(' ')}) will stop working at once. Anything using it must get a new one.`}
          confirmLabel="Revoke"
          onCancel={() => setRevoking(undefined)}
          onConfirm={async () => {
            const t = revoking;
            setRevoking(undefined);
            try {
              await api(`/api/v1/tokens/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
              setNotice(`Revoked the token of ${t.user}.`);
              list.reload();
            } catch (err) {
              setError(err as Error);
            }
          }}
        />
      ) : null}
    </section>
  );
}
