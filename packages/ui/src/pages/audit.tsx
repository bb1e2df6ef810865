import { useState } from 'preact/hooks';
import type { AuditEntry } from '../api.js';
import { ErrorBox, Loading } from '../components/status.js';
import { formatTime } from '../format.js';
import { useApi } from '../hooks.js';

const show = (v: unknown) => (v === null || v === undefined ? '-' : JSON.stringify(v));

/** The audit log (admin; a model's admins can filter on their model's target). */
export function AuditPage({ target: initial }: { target: string }) {
  const [target, setTarget] = useState(initial);
  const [applied, setApplied] = useState(initial);
  const { data, error } = useApi<{ entries: AuditEntry[] }>(
    `/api/v1/audit?limit=500${applied ? `&target=${encodeURIComponent(applied)}` : ''}`,
  );
  return (
    <section>
      <h1>Audit log</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(target.trim());
        }}
      >
        <label>
          Target
          <input
            value={target}
            placeholder="models:/team/mnist"
            onInput={(e) => setTarget(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={error} />
      {!data && !error ? <Loading what="the audit log" /> : null}
      {data ? (
        <div class="table-wrap">
          <table class="audit">
            <thead>
              <tr>
                <th>#</th>
                <th>Time</th>
                <th>Actor</th>
                <th>Action</th>
                <th>Target</th>
                <th>Before</th>
                <th>After</th>
              </tr>
            </thead>
            <tbody>
              {[...data.entries].reverse().map((e) => (
                <tr key={e.id}>
                  <td class="num">{e.id}</td>
                  <td class="nowrap">{formatTime(e.time)}</td>
                  <td>{e.actor}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>
                    <code class="wrap">{e.target}</code>
                  </td>
                  <td>
                    <code class="wrap small">{show(e.before).slice(0, 300)}</code>
                  </td>
                  <td>
                    <code class="wrap small">{show(e.after).slice(0, 300)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
