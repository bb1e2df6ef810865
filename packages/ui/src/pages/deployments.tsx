import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Deployment } from '../api.js';
import { LineChart } from '../components/chart.js';
import { NewDeployment } from '../components/new-deployment.js';
import { ErrorBox, Loading } from '../components/status.js';
import { LIVE_REFRESH_MS, useApi, useWhoami } from '../hooks.js';
import { href } from '../router.js';
import { parsePrometheus, type Rates, rates, type Sample } from '../prometheus.js';

/** Where a deployment's server publishes Prometheus metrics. */
export const metricsUrlOf = (d: Deployment): string | undefined =>
  d.endpoint ? `${d.endpoint.replace(/\/+$/, '')}/metrics` : undefined;

/** The live chart's axes: each counts in one unit. */
const RATE_AXES = [
  { scale: 'rps', label: 'requests/s' },
  { scale: 'ms', label: 'p99 latency (ms)' },
] as const;

/** Points kept per live chart (a few minutes at one scrape every 2 s). */
const MAX_POINTS = 150;

export function DeploymentsPage({ watch }: { watch: string }) {
  // Re-read every LIVE_REFRESH_MS: when an alias moves, the server swaps versions and reports the new live one.
  const list = useApi<{ deployments: Deployment[] }>('/api/v1/deployments', LIVE_REFRESH_MS);
  const [url, setUrl] = useState(watch);
  const [created, setCreated] = useState<Deployment | undefined>();
  const { who } = useWhoami();
  const missingRoute = list.error instanceof ApiError && list.error.status === 404;
  return (
    <section>
      <h1>Deployments</h1>
      {who.anonymous ? (
        <p class="muted small">Log in with a token that may write a model to create a deployment of it.</p>
      ) : (
        <details class="create" open={list.data?.deployments.length === 0}>
          <summary>New deployment</summary>
          <NewDeployment
            onCreated={(d) => {
              setCreated(d);
              list.reload();
            }}
          />
        </details>
      )}
      {created ? (
        <p class="notice" role="status">
          Deployment {created.name} created: it follows models:/{created.model}@{created.alias}. Serve it with{' '}
          <code>ferry serve --registry URL</code>.
        </p>
      ) : null}
      {missingRoute ? (
        <p>
          No deployments are registered: this registry has no deployments API yet. Serve a model with{' '}
          <code>ferry serve</code> and watch its metrics below by giving its <code>/metrics</code> URL.
        </p>
      ) : (
        <ErrorBox error={list.error} />
      )}
      {!list.data && !list.error ? <Loading what="deployments" /> : null}
      {list.data && list.data.deployments.length === 0 ? (
        <p class="muted">No deployments are registered.</p>
      ) : null}
      {(list.data?.deployments ?? []).map((d) => {
        const metrics = metricsUrlOf(d);
        return (
          <article
            class="deployment"
            key={d.name}
            data-deployment={d.name}
            data-live-version={d.liveVersion ?? ''}
            data-status={d.status ?? ''}
          >
            <h2>{d.name}</h2>
            <p>
              follows{' '}
              <a href={href.model(d.model)}>
                models:/{d.model}@{d.alias}
              </a>{' '}
              · <LiveVersion deployment={d} />{' '}
              {d.status ? <span class={`badge dep-${d.status}`}>{d.status}</span> : null}
              {d.endpoint ? (
                <>
                  {' '}
                  at <code>{d.endpoint}</code>
                </>
              ) : null}
            </p>
            {d.message ? <p class={d.status === 'failed' ? 'error' : 'muted'}>{d.message}</p> : null}
            {d.endpoints.length > 1 || d.endpoints.some((e) => e.status === 'offline') ? (
              <Endpoints deployment={d} />
            ) : null}
            {metrics ? (
              <LiveMetrics url={metrics} model={d.name} />
            ) : (
              <p class="muted">No server has reported this deployment yet.</p>
            )}
          </article>
        );
      })}
      <h2>Watch a server</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = `#/deployments?watch=${encodeURIComponent(url.trim())}`;
        }}
      >
        <label>
          Metrics URL
          <input
            type="url"
            value={url}
            placeholder="http://127.0.0.1:8000/metrics"
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Watch</button>
      </form>
      {watch ? <LiveMetrics url={watch} /> : null}
    </section>
  );
}

/** "live version N" (a link to that version), announced to screen readers when it changes. */
function LiveVersion({ deployment: d }: { deployment: Deployment }) {
  return (
    <span class="live-version" aria-live="polite">
      {d.liveVersion ? (
        <>
          live version <a href={href.version(d.model, d.liveVersion)}>{d.liveVersion}</a>
        </>
      ) : (
        'no version live'
      )}
    </span>
  );
}

/** Each version's share of the requests answered: "v1 25% · v2 75%" while an alias moves. */
export function versionShares(byVersion: Readonly<Record<string, number>>): string {
  const total = Object.values(byVersion).reduce((a, b) => a + b, 0);
  if (total <= 0) return '-';
  return Object.entries(byVersion)
    .map(([version, rate]) => `v${version} ${Math.round((rate / total) * 100)}%`)
    .join(' · ');
}

/** Scrapes `url` every LIVE_REFRESH_MS; each pair of scrapes gives one point of rate, p99 and batch size. */
function LiveMetrics({ url, model }: { url: string; model?: string }) {
  const [points, setPoints] = useState<{ t: number; r: Rates }[]>([]);
  const [error, setError] = useState<Error | undefined>();
  useEffect(() => {
    let previous: { t: number; samples: Sample[] } | undefined;
    let live = true;
    const scrape = async () => {
      try {
        const response = await fetch(url, { headers: { accept: 'text/plain' } });
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        const samples = parsePrometheus(await response.text());
        const t = Date.now() / 1000;
        if (previous && live) {
          const r = rates(previous.samples, samples, t - previous.t, model ? { model } : {});
          setPoints((p) => [...p.slice(-MAX_POINTS + 1), { t, r }]);
        }
        previous = { t, samples };
        setError(undefined);
      } catch (err) {
        if (live)
          setError(
            new Error(
              `${(err as Error).message}: the server must be reachable from this browser (same origin or CORS)`,
            ),
          );
      }
    };
    void scrape();
    const timer = setInterval(scrape, LIVE_REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [url, model]);
  const last = points[points.length - 1]?.r;
  return (
    <div class="live" aria-live="polite">
      <ErrorBox error={error} />
      <dl class="stats">
        <div>
          <dt>Requests/s</dt>
          <dd data-metric="rate">{last ? last.requestsPerSecond.toFixed(2) : '…'}</dd>
        </div>
        <div>
          <dt>p99 latency</dt>
          <dd data-metric="p99">
            {last ? (last.p99Seconds === null ? '-' : `${(last.p99Seconds * 1000).toFixed(1)} ms`) : '…'}
          </dd>
        </div>
        <div>
          <dt>Avg batch</dt>
          <dd data-metric="batch">
            {last ? (last.averageBatch === null ? '-' : last.averageBatch.toFixed(2)) : '…'}
          </dd>
        </div>
        <div>
          <dt>Answered by</dt>
          <dd data-metric="versions">{last ? versionShares(last.byVersion) : '…'}</dd>
        </div>
      </dl>
      {points.length > 1 ? (
        // one unit per axis: requests/s on the left, milliseconds on the right (batch size is above)
        <LineChart
          title="requests/s and p99 latency"
          xLabel="time"
          time
          yAxes={RATE_AXES}
          x={points.map((p) => p.t)}
          series={[
            { label: 'requests/s', scale: 'rps', values: points.map((p) => p.r.requestsPerSecond) },
            {
              label: 'p99 (ms)',
              scale: 'ms',
              values: points.map((p) => (p.r.p99Seconds === null ? null : p.r.p99Seconds * 1000)),
            },
          ]}
        />
      ) : null}
    </div>
  );
}

/**
 * Every server that reports this deployment, one row each: a stopped one reads `offline` once its
 * heartbeat expires, and the others keep serving (issue #25: not only the last one to report).
 */
function Endpoints({ deployment }: { deployment: Deployment }) {
  return (
    <table class="endpoints" data-endpoints={deployment.endpoints.length}>
      <thead>
        <tr>
          <th>server</th>
          <th>status</th>
          <th>version</th>
          <th>last heartbeat</th>
        </tr>
      </thead>
      <tbody>
        {deployment.endpoints.map((e) => (
          <tr key={e.endpoint ?? ''} data-endpoint={e.endpoint ?? ''} data-status={e.status}>
            <td>{e.endpoint ? <code>{e.endpoint}</code> : <span class="muted">(no REST)</span>}</td>
            <td>
              <span class={`badge dep-${e.status}`}>{e.status}</span>
            </td>
            <td>{e.liveVersion ?? '-'}</td>
            <td>{e.reportedAt}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
