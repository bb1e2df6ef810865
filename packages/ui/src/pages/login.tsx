import { useState } from 'preact/hooks';
import { ApiError, api, setToken, type Whoami } from '../api.js';
import { ErrorBox } from '../components/status.js';
import { useWhoami } from '../hooks.js';
import { href } from '../router.js';

/** Log in with an API token; it is kept in sessionStorage (gone when the tab closes). */
export function LoginPage() {
  const { who, refresh } = useWhoami();
  const [token, setValue] = useState('');
  const [error, setError] = useState<Error | undefined>();
  return (
    <section class="narrow">
      <h1>Log in</h1>
      {!who.anonymous ? (
        <p>
          Logged in as <strong>{who.user}</strong> ({who.scopes.join(', ') || 'no scopes'}).{' '}
          <button
            type="button"
            onClick={() => {
              setToken(null);
              refresh();
            }}
          >
            Log out
          </button>
        </p>
      ) : null}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          const value = token.trim();
          if (!/^ferry_[A-Za-z0-9_-]{43}$/.test(value)) {
            setError(new Error('a ferry token is ferry_ followed by 43 letters, digits, - or _'));
            return;
          }
          setToken(value);
          try {
            const me = await api<Whoami>('/api/v1/whoami');
            if (me.anonymous)
              throw new ApiError(401, 'FERRY_REGISTRY_UNAUTHORIZED', 'the token was not accepted');
            setValue('');
            refresh();
            location.hash = href.models();
          } catch (err) {
            setToken(null);
            setError(err as Error);
          }
        }}
      >
        <label>
          API token
          <input
            type="password"
            name="token"
            autocomplete="off"
            value={token}
            placeholder="ferry_..."
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary">
          Log in
        </button>
      </form>
      <ErrorBox error={error} />
      <p class="muted small">
        The token stays in this tab's session storage. Without one you see public models only.
      </p>
    </section>
  );
}
