import { useMemo } from 'preact/hooks';
import type { Graph, Run } from '../api.js';
import { LineChart } from '../components/chart.js';
import { Loading, PageError } from '../components/status.js';
import { formatTime } from '../format.js';
import { useApi } from '../hooks.js';
import { href, nodeHref } from '../router.js';

/** A run: params, tags and one chart per metric key (value against step). */
export function RunPage({ id }: { id: string }) {
  const { data, error } = useApi<Run>(`/api/v1/runs/${encodeURIComponent(id)}`);
  // The versions registered from this run (ferry push --run, MLflow's model-versions/create run_id).
  const lineage = useApi<{ downstream: Graph }>(
    `/api/v1/lineage?node=${encodeURIComponent(`run:${id}`)}&depth=1`,
  );
  const versions = (lineage.data?.downstream.edges ?? [])
    .filter((e) => e.relation === 'output' && e.src === `run:${id}`)
    .map((e) => e.dst);
  const charts = useMemo(() => {
    const byKey = new Map<string, { step: number; value: number }[]>();
    for (const m of data?.metrics ?? []) {
      const list = byKey.get(m.key) ?? [];
      list.push({ step: m.step, value: m.value });
      byKey.set(m.key, list);
    }
    return [...byKey.entries()].map(([key, points]) => {
      points.sort((a, b) => a.step - b.step);
      return { key, x: points.map((p) => p.step), values: points.map((p) => p.value) };
    });
  }, [data]);
  if (error) return <PageError error={error} />;
  if (!data) return <Loading what={`run ${id}`} />;
  return (
    <section>
      <nav class="crumbs" aria-label="breadcrumb">
        <a href={href.runs()}>Runs</a> / run {id.slice(0, 8)}
      </nav>
      <h1>
        Run {data.name || id.slice(0, 8)} <span class={`badge run-${data.status}`}>{data.status}</span>
      </h1>
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{data.id}</code>
        </dd>
        <dt>Started</dt>
        <dd>
          {formatTime(data.startTime)} by {data.createdBy}
        </dd>
        <dt>Ended</dt>
        <dd>{formatTime(data.endTime)}</dd>
        <dt>Lineage</dt>
        <dd>
          <a href={href.lineage(`run:${data.id}`)}>inputs and outputs</a>
        </dd>
      </dl>
      <h2>Versions</h2>
      {versions.length === 0 ? (
        <p class="muted">No version registered from this run.</p>
      ) : (
        <ul class="run-versions">
          {versions.map((node) => (
            <li key={node}>
              <a href={nodeHref(node)}>{node.replace(/^models:\//, '')}</a>
            </li>
          ))}
        </ul>
      )}
      <h2>Params</h2>
      <KeyValues values={data.params} empty="No params logged." />
      <h2>Tags</h2>
      <KeyValues values={data.tags} empty="No tags." />
      <h2>Metrics</h2>
      {charts.length === 0 ? <p class="muted">No metrics logged.</p> : null}
      <div class="charts">
        {charts.map((c) => (
          <figure key={c.key}>
            <LineChart
              title={c.key}
              xLabel="step"
              yLabel={c.key}
              x={c.x}
              series={[{ label: c.key, values: c.values }]}
            />
            <figcaption class="muted small">
              {c.key}: {c.values.length} point(s), last{' '}
              {Number(c.values[c.values.length - 1]!.toPrecision(6))}
            </figcaption>
          </figure>
        ))}
      </div>
    </section>
  );
}

function KeyValues({ values, empty }: { values: Record<string, string>; empty: string }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <p class="muted">{empty}</p>;
  return (
    <div class="table-wrap">
      <table class="kv">
        <tbody>
          {entries.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>
                <code class="wrap">{v}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
