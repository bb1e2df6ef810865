import { useMemo, useState } from 'preact/hooks';
import { enc, type Model } from '../api.js';
import { ErrorBox, Loading, ScanBadge } from '../components/status.js';
import { formatTime } from '../format.js';
import { useApi } from '../hooks.js';
import { href } from '../router.js';

/** Models the caller can see: server-side search, then namespace / visibility / tag filters. */
export function ModelsPage({ query }: { query: URLSearchParams }) {
  const [search, setSearch] = useState(query.get('search') ?? '');
  const [namespace, setNamespace] = useState('');
  const [visibility, setVisibility] = useState('');
  const [tag, setTag] = useState('');
  const path = `/api/v1/models?limit=1000${search.trim() ? `&search=${enc(search.trim())}` : ''}`;
  const { data, error, loading } = useApi<{ models: Model[]; total: number }>(path);
  const namespaces = useMemo(
    () => [...new Set((data?.models ?? []).map((m) => m.namespace).filter((n) => n !== ''))].sort(),
    [data],
  );
  const models = (data?.models ?? []).filter((m) => {
    if (namespace && m.namespace !== namespace) return false;
    if (visibility && m.visibility !== visibility) return false;
    if (tag) {
      const [k = '', v] = tag.split('=', 2);
      if (!(k in m.tags) || (v !== undefined && m.tags[k] !== v)) return false;
    }
    return true;
  });
  return (
    <section>
      <h1>Models</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            name="search"
            value={search}
            placeholder="name or description"
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </label>
        <label>
          Namespace
          <select value={namespace} onChange={(e) => setNamespace(e.currentTarget.value)}>
            <option value="">all</option>
            {namespaces.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Visibility
          <select value={visibility} onChange={(e) => setVisibility(e.currentTarget.value)}>
            <option value="">all</option>
            <option value="public">public</option>
            <option value="private">private</option>
          </select>
        </label>
        <label>
          Tag
          <input
            type="text"
            value={tag}
            placeholder="key or key=value"
            onInput={(e) => setTag(e.currentTarget.value)}
          />
        </label>
      </form>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="models" /> : null}
      {data ? (
        <p class="muted" aria-live="polite">
          {models.length} of {data.total} model(s)
        </p>
      ) : null}
      <div class="table-wrap">
        <table class="models">
          <thead>
            <tr>
              <th>Name</th>
              <th>Latest</th>
              <th>Scan</th>
              <th>Aliases</th>
              <th>Visibility</th>
              <th>Tags</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.name}>
                <td>
                  <a href={href.model(m.name)}>{m.name}</a>
                  {m.description ? <div class="muted small">{m.description}</div> : null}
                </td>
                <td>{m.latestVersion ?? '-'}</td>
                <td data-scan={m.latestScan ?? ''}>
                  {m.latestScan ? <ScanBadge scan={m.latestScan} /> : '-'}
                </td>
                <td>
                  {Object.entries(m.aliases).map(([a, v]) => (
                    <span key={a} class="badge alias">
                      {a}→{v}
                    </span>
                  ))}
                </td>
                <td>
                  <span class={`badge vis-${m.visibility}`}>{m.visibility}</span>
                </td>
                <td>
                  {Object.entries(m.tags).map(([k, v]) => (
                    <span key={k} class="badge tag">
                      {k}={v}
                    </span>
                  ))}
                </td>
                <td class="nowrap">{formatTime(m.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
