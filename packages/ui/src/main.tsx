import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, setToken, type Whoami } from './api.js';
import { allows } from './access.js';
import { WhoamiContext } from './hooks.js';
import { AuditPage } from './pages/audit.js';
import { DeploymentsPage } from './pages/deployments.js';
import { LineagePage } from './pages/lineage.js';
import { LoginPage } from './pages/login.js';
import { ModelPage } from './pages/model.js';
import { ModelsPage } from './pages/models.js';
import { NotFoundPage } from './pages/not-found.js';
import { RunComparePage } from './pages/run-compare.js';
import { RunPage } from './pages/run.js';
import { RunsPage } from './pages/runs.js';
import { TokensPage } from './pages/tokens.js';
import { VersionPage } from './pages/version.js';
import { href, type Route, useRoute } from './router.js';
import './style.css';

const ANONYMOUS: Whoami = { user: 'anonymous', anonymous: true, scopes: [] };

function Page({ route }: { route: Route }) {
  const [first, second, third, fourth] = route.parts;
  const count = route.parts.length;
  // Each route matches its exact shape; anything else is a "not found" page, never the models list.
  if (first === undefined) return <ModelsPage query={route.query} />;
  if (first === 'models' && count === 4 && third === 'versions' && /^[1-9]\d{0,9}$/.test(fourth!)) {
    const against = route.query.get('against');
    return <VersionPage name={second!} version={Number(fourth)} against={against ? Number(against) : null} />;
  }
  if (first === 'models' && count === 2) return <ModelPage name={second!} />;
  if (first === 'models' && count === 1) return <ModelsPage query={route.query} />;
  if (first === 'lineage' && count === 1) return <LineagePage node={route.query.get('node') ?? ''} />;
  if (first === 'runs' && count === 1) return <RunsPage />;
  if (first === 'runs' && second === 'compare' && count === 2)
    return <RunComparePage ids={(route.query.get('ids') ?? '').split(',').filter(Boolean)} />;
  if (first === 'runs' && count === 2) return <RunPage id={second!} />;
  if (first === 'deployments' && count === 1)
    return <DeploymentsPage watch={route.query.get('watch') ?? ''} />;
  if (first === 'audit' && count === 1) return <AuditPage target={route.query.get('target') ?? ''} />;
  if (first === 'tokens' && count === 1) return <TokensPage />;
  if (first === 'login' && count === 1) return <LoginPage />;
  return <NotFoundPage path={route.parts} />;
}

function App() {
  const route = useRoute();
  // A new path is a new page (state reset, focus to its heading); a new query (a diff target, a
  // watched URL) updates the page in place.
  const path = route.parts.join('/');
  const [who, setWho] = useState<Whoami>(ANONYMOUS);
  const refresh = useCallback(() => {
    api<Whoami>('/api/v1/whoami').then(setWho, () => {
      // A stored token the registry no longer accepts: forget it and carry on anonymously.
      setToken(null);
      setWho(ANONYMOUS);
    });
  }, []);
  useEffect(refresh, []);
  // Move focus to the new page's heading so keyboard and screen-reader users land on it. While a
  // page is still loading there is no heading yet: the main region holds the focus until it comes.
  // Neither draws a focus ring (style.css): they are landmarks, not controls (#25).
  useEffect(() => {
    const main = document.getElementById('main');
    const focusHeading = () => {
      const heading = document.querySelector<HTMLElement>('main h1');
      if (!heading) return false;
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
      return true;
    };
    if (focusHeading() || !main) return;
    main.focus({ preventScroll: true });
    const watch = new MutationObserver(() => {
      // only while the user has not moved the focus elsewhere
      if (document.activeElement === main && focusHeading()) watch.disconnect();
    });
    watch.observe(main, { childList: true, subtree: true });
    return () => watch.disconnect();
  }, [path]);
  const page = route.parts[0] ?? '';
  return (
    <WhoamiContext.Provider value={{ who, refresh }}>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header>
        <a class="brand" href={href.models()}>
          ferry
        </a>
        <nav aria-label="main">
          <a href={href.models()} aria-current={page === '' || page === 'models' ? 'page' : undefined}>
            Models
          </a>
          <a href={href.runs()} aria-current={page === 'runs' ? 'page' : undefined}>
            Runs
          </a>
          <a href={href.deployments()} aria-current={page === 'deployments' ? 'page' : undefined}>
            Deployments
          </a>
          {allows(who.scopes, 'admin', null) ? (
            <>
              <a href={href.audit()} aria-current={page === 'audit' ? 'page' : undefined}>
                Audit log
              </a>
              <a href={href.tokens()} aria-current={page === 'tokens' ? 'page' : undefined}>
                Tokens
              </a>
            </>
          ) : null}
          <a href="/docs" title="The registry's REST API, every route with its parameters">
            API
          </a>
          <a href={href.login()} class="who" aria-current={page === 'login' ? 'page' : undefined}>
            {who.anonymous ? 'Log in' : who.user}
          </a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} key={path} />
      </main>
    </WhoamiContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
