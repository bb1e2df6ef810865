import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Run } from '../api.js';
import { LineChart } from '../components/chart.js';
import { ErrorBox, Loading } from '../components/status.js';
import { href } from '../router.js';

/** Runs compared at once: columns stay readable and charts keep distinct colours. */
export const MAX_COMPARED = 6;

const fmt = (v: number | undefined) => (v === undefined ? '-' : String(Number(v.toPrecision(6))));

/** Each metric's points by step, per run (the last value logged at a step wins). */
function metricSeries(runs: readonly Run[]) {
  const keys = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
  return keys.map((key) => {
    const perRun = runs.map((r) => {
      const byStep = new Map<number, number>();
      for (const m of r.metrics) if (m.key === key) byStep.set(m.step, m.value);
      return byStep;
    });
    const steps = [...new Set(perRun.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    const last = perRun.map((m) => {
      const s = [...m.keys()].sort((a, b) => a - b).pop();
      return s === undefined ? undefined : m.get(s);
    });
    const values = perRun.map((m) => [...m.values()]);
    return {
      key,
      steps,
      last,
      min: values.map((v) => (v.length ? Math.min(...v) : undefined)),
      max: values.map((v) => (v.length ? Math.max(...v) : undefined)),
      series: perRun.map((m, i) => ({ label: runs[i]!.name, values: steps.map((s) => m.get(s) ?? null) })),
    };
  });
}

/** Two or more runs side by side: every param (differences marked) and every metric (last, min, max, chart). */
export function RunComparePage({ ids }: { ids: string[] }) {
  const [runs, setRuns] = useState<Run[] | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const unique = [...new Set(ids)];
  const key = unique.join(',');
  useEffect(() => {
    setRuns(undefined);
    if (unique.length < 2 || unique.length > MAX_COMPARED) return;
    Promise.all(unique.map((id) => api<Run>(`/api/v1/runs/${encodeURIComponent(id)}`))).then(
      setRuns,
      setError,
    );
  }, [key]);
  const metrics = useMemo(() => (runs ? metricSeries(runs) : []), [runs]);
  if (unique.length < 2 || unique.length > MAX_COMPARED)
    return (
      <section>
        <h1>Compare runs</h1>
        <p class="error">
          Choose from 2 to {MAX_COMPARED} runs on the <a href={href.runs()}>runs list</a> (got {unique.length}
          ).
        </p>
      </section>
    );
  if (error)
    return (
      <section>
        <h1>Compare runs</h1>
        <ErrorBox error={error} />
      </section>
    );
  if (!runs) return <Loading what={`${unique.length} runs`} />;
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  return (
    <section>
      <nav class="crumbs" aria-label="breadcrumb">
        <a href={href.runs()}>Runs</a> / compare
      </nav>
      <h1>Compare {runs.length} runs</h1>
      <h2>Params</h2>
      {params.length === 0 ? <p class="muted">No params logged.</p> : null}
      <div class="table-wrap">
        <table class="compare-params">
          <thead>
            <tr>
              <th>Param</th>
              {runs.map((r) => (
                <th key={r.id}>
                  <a href={href.run(r.id)}>{r.name}</a>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {params.map((p) => {
              const values = runs.map((r) => r.params[p]);
              const differs = new Set(values.map(String)).size > 1;
              return (
                <tr key={p} class={differs ? 'differs' : undefined} data-param={p}>
                  <th scope="row">
                    {p}
                    {differs ? <span class="badge differs-badge">differs</span> : null}
                  </th>
                  {values.map((v, i) => (
                    <td key={runs[i]!.id}>
                      <code class="wrap">{v ?? '-'}</code>
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h2>Metrics</h2>
      {metrics.length === 0 ? <p class="muted">No metrics logged.</p> : null}
      <div class="table-wrap">
        <table class="compare-metrics">
          <thead>
            <tr>
              <th>Metric</th>
              {runs.map((r) => (
                <th key={r.id}>{r.name}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {metrics.map((m) => (
              <tr key={m.key} data-metric={m.key}>
                <th scope="row">{m.key}</th>
                {runs.map((r, i) => (
                  <td key={r.id} class="num" title={`min ${fmt(m.min[i])}, max ${fmt(m.max[i])}`}>
                    {fmt(m.last[i])}
                    <div class="muted small">
                      {fmt(m.min[i])} – {fmt(m.max[i])}
                    </div>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted small">Each cell: the last value logged, then the lowest – highest over all steps.</p>
      <div class="charts">
        {metrics.map((m) => (
          <figure key={m.key}>
            <LineChart title={m.key} xLabel="step" yLabel={m.key} x={m.steps} series={m.series} />
          </figure>
        ))}
      </div>
    </section>
  );
}
