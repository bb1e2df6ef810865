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
import { RunPage } from './pages/run.js';
import { VersionPage } from './pages/version.js';
import { href, type Route, useRoute } from './router.js';
import './style.css';

const ANONYMOUS: Whoami = { user: 'anonymous', anonymous: true, scopes: [] };

function Page({ route }: { route: Route }) {
  const [first, second, third, fourth] = route.parts;
  if (first === 'models' && second && third === 'versions' && fourth) {
    const against = route.query.get('against');
    return <VersionPage name={second} version={Number(fourth)} against={against ? Number(against) : null} />;
  }
  if (first === 'models' && second) return <ModelPage name={second} />;
  if (first === 'lineage') return <LineagePage node={route.query.get('node') ?? ''} />;
  if (first === 'runs' && second) return <RunPage id={second} />;
  if (first === 'deployments') return <DeploymentsPage watch={route.query.get('watch') ?? ''} />;
  if (first === 'audit') return <AuditPage target={route.query.get('target') ?? ''} />;
  if (first === 'login') return <LoginPage />;
  return <ModelsPage query={route.query} />;
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
  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  useEffect(() => {
    // (While a page is still loading there is no heading yet: the main region takes the focus.)
    const heading = document.querySelector<HTMLElement>('main h1') ?? document.getElementById('main');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
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
          <a href={href.deployments()} aria-current={page === 'deployments' ? 'page' : undefined}>
            Deployments
          </a>
          {allows(who.scopes, 'admin', null) ? (
            <a href={href.audit()} aria-current={page === 'audit' ? 'page' : undefined}>
              Audit log
            </a>
          ) : null}
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
