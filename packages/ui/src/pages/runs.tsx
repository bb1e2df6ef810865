import { useState } from 'preact/hooks';
import type { Run } from '../api.js';
import { ErrorBox, Loading } from '../components/status.js';
import { formatTime } from '../format.js';
import { useApi } from '../hooks.js';
import { href } from '../router.js';
import { MAX_COMPARED } from './run-compare.js';

/** Runs per page. */
const RUNS_PAGE = 50;

/** A run as GET /api/v1/runs lists it: no params, tags or metrics. */
type RunSummary = Omit<Run, 'params' | 'tags' | 'metrics'>;

/** Every run, newest first, a page at a time; tick two or more to compare them side by side. */
export function RunsPage() {
  const [offset, setOffset] = useState(0);
  const [chosen, setChosen] = useState<string[]>([]);
  const { data, error } = useApi<{ runs: RunSummary[]; total: number }>(
    `/api/v1/runs?limit=${RUNS_PAGE}&offset=${offset}`,
  );
  const toggle = (id: string, on: boolean) =>
    setChosen((c) => (on ? [...c.filter((x) => x !== id), id] : c.filter((x) => x !== id)));
  return (
    <section>
      <h1>Runs</h1>
      <ErrorBox error={error} />
      {!data && !error ? <Loading what="runs" /> : null}
      {data && data.total === 0 ? <p class="muted">No runs are recorded.</p> : null}
      {data && data.total > 0 ? (
        <>
          <form
            class="inline compare"
            onSubmit={(e) => {
              e.preventDefault();
              location.hash = href.compare(chosen);
            }}
          >
            <button
              type="submit"
              class="primary"
              disabled={chosen.length < 2 || chosen.length > MAX_COMPARED}
            >
              Compare {chosen.length} run(s)
            </button>{' '}
            <span class="muted">
              {chosen.length < 2
                ? 'Select two or more runs to compare their params and metrics.'
                : chosen.length > MAX_COMPARED
                  ? `At most ${MAX_COMPARED} runs at once.`
                  : ''}
            </span>
          </form>
          <div class="table-wrap">
            <table class="runs">
              <thead>
                <tr>
                  <th>
                    <span class="visually-hidden">Compare</span>
                  </th>
                  <th>Name</th>
                  <th>Status</th>
                  <th>Started</th>
                  <th>Ended</th>
                  <th>By</th>
                </tr>
              </thead>
              <tbody>
                {data.runs.map((r) => (
                  <tr key={r.id} data-run={r.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`compare ${r.name}`}
                        checked={chosen.includes(r.id)}
                        onChange={(e) => toggle(r.id, e.currentTarget.checked)}
                      />
                    </td>
                    <td>
                      <a href={href.run(r.id)}>{r.name}</a>{' '}
                      <code class="muted small">{r.id.slice(0, 8)}</code>
                    </td>
                    <td>
                      <span class={`badge run-${r.status}`}>{r.status}</span>
                    </td>
                    <td class="nowrap">{formatTime(r.startTime)}</td>
                    <td class="nowrap">{formatTime(r.endTime)}</td>
                    <td>{r.createdBy}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="runs pages">
            <button
              type="button"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - RUNS_PAGE))}
            >
              ← Newer
            </button>
            <span class="muted">
              {offset + 1}–{offset + data.runs.length} of {data.total}
            </span>
            <button
              type="button"
              disabled={offset + RUNS_PAGE >= data.total}
              onClick={() => setOffset(offset + RUNS_PAGE)}
            >
              Older →
            </button>
          </nav>
        </>
      ) : null}
    </section>
  );
}
