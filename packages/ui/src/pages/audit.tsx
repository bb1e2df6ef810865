import { useState } from 'preact/hooks';
import type { AuditEntry } from '../api.js';
import { ErrorBox, Loading } from '../components/status.js';
import { formatTime } from '../format.js';
import { useApi } from '../hooks.js';
import { href, nodeHref } from '../router.js';

/** Entries per page: a screenful, newest first. */
export const AUDIT_PAGE = 50;

/** What each action did, in words (unknown actions show their code). */
const ACTIONS: Record<string, string> = {
  'alias.set': 'moved an alias',
  'alias.delete': 'deleted an alias',
  'lineage.add': 'recorded lineage',
  'model.card': 'edited the model card',
  'model.create': 'created a model',
  'model.delete': 'deleted a model',
  'model.rename': 'renamed a model',
  'model.tag.set': 'tagged a model',
  'model.tag.delete': 'removed a model tag',
  'model.update': 'changed a model',
  'run.create': 'started a run',
  'run.log': 'logged to a run',
  'token.create': 'created a token',
  'token.delete': 'revoked a token',
  'version.create': 'pushed a version',
  'version.delete': 'deleted a version',
  'version.tag.set': 'tagged a version',
  'version.tag.delete': 'removed a version tag',
  'version.update': 'changed a version',
  'deployment.create': 'created a deployment',
  'deployment.update': 'changed a deployment',
  'deployment.report': 'a server reported a deployment',
  'deployment.delete': 'deleted a deployment',
};

/** Values longer than this are cut in the table (the whole value is in the cell's title). */
const MAX_VALUE_CHARS = 120;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nesting written out before a value is cut to `…`. */
const MAX_BRIEF_DEPTH = 2;

/**
 * A stored value as a person reads it, never as JSON: `k=v, k=v` for objects, a list's items by
 * their name (`path`, `name`, `key`, `scope`) or value, 64-hex digests shortened.
 */
export function brief(v: unknown, depth = 0): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return /^(sha256:)?[0-9a-f]{64}$/.test(v) ? `${v.slice(0, v.length - 52)}…` : v;
  if (typeof v !== 'object') return String(v);
  if (depth >= MAX_BRIEF_DEPTH) return '…';
  if (Array.isArray(v)) {
    if (v.length === 0) return 'none';
    return v
      .map((item) => {
        if (!isObject(item)) return brief(item, depth + 1);
        const label = item.path ?? item.name ?? item.key ?? item.scope;
        if (typeof label !== 'string') return brief(item, depth + 1);
        return item.value !== undefined ? `${label}=${brief(item.value, depth + 1)}` : label;
      })
      .join(', ');
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return 'none';
  return entries.map(([k, value]) => `${k}=${brief(value, depth + 1)}`).join(', ');
}

/**
 * A change as lines a person reads: `field: before → after` for each field that differs, or the
 * fields set when something was created, or what was removed.
 */
export function describeChange(
  before: unknown,
  after: unknown,
): { field: string; from?: string; to?: string }[] {
  const present = (v: unknown) => v !== null && v !== undefined;
  if (isObject(before) || isObject(after)) {
    const b = isObject(before) ? before : {};
    const a = isObject(after) ? after : {};
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
    return keys
      .filter(
        (k) =>
          (present(b[k]) || present(a[k])) && JSON.stringify(b[k] ?? null) !== JSON.stringify(a[k] ?? null),
      )
      .map((k) => ({
        field: k,
        ...(present(b[k]) && { from: brief(b[k]) }),
        ...(present(a[k]) && { to: brief(a[k]) }),
      }));
  }
  if (!present(before) && !present(after)) return [];
  return [
    {
      field: 'value',
      ...(present(before) && { from: brief(before) }),
      ...(present(after) && { to: brief(after) }),
    },
  ];
}

const cut = (s: string) => (s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s);

/** A target as a link where the UI has a page for it. */
function Target({ target }: { target: string }) {
  const linkable = /^models:\/.+|^run:[0-9a-f]{32}$/.test(target);
  const model = /^models:\/([^@]+?)(?:@.*)?$/.exec(target);
  const to =
    /^models:\/.+\/\d+$/.test(target) || target.startsWith('run:')
      ? nodeHref(target)
      : model
        ? href.model(model[1]!)
        : undefined;
  return linkable && to ? (
    <a href={to}>
      <code class="wrap">{target}</code>
    </a>
  ) : (
    <code class="wrap">{target}</code>
  );
}

/**
 * The audit log, newest first, a page at a time (admin; a model's admins can filter on their
 * model's target). Older pages are read with `before=<the oldest id shown>`; the cursors of the
 * pages seen are kept so Newer goes back exactly.
 */
export function AuditPage({ target: initial }: { target: string }) {
  const [target, setTarget] = useState(initial);
  const [applied, setApplied] = useState(initial);
  // cursors[i] = the `before` of page i (undefined: the newest page)
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const before = cursors[cursors.length - 1];
  const { data, error } = useApi<{ entries: AuditEntry[] }>(
    `/api/v1/audit?order=desc&limit=${AUDIT_PAGE + 1}${before ? `&before=${before}` : ''}${
      applied ? `&target=${encodeURIComponent(applied)}` : ''
    }`,
  );
  // one more than a page is asked for: its presence says an older page exists
  const entries = (data?.entries ?? []).slice(0, AUDIT_PAGE);
  const hasOlder = (data?.entries.length ?? 0) > AUDIT_PAGE;
  const page = cursors.length;
  const pager = data ? (
    <nav class="pager" aria-label="audit log pages">
      <button type="button" disabled={page === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
        ← Newer
      </button>
      <span class="muted" data-page={page}>
        page {page}
        {entries.length > 0 ? `: entries #${entries[0]!.id} to #${entries[entries.length - 1]!.id}` : ''}
      </span>
      <button
        type="button"
        disabled={!hasOlder}
        onClick={() => setCursors((c) => [...c, entries[entries.length - 1]!.id])}
      >
        Older →
      </button>
    </nav>
  ) : null;
  return (
    <section>
      <h1>Audit log</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(target.trim());
          setCursors([undefined]);
        }}
      >
        <label>
          Target
          <input
            name="target"
            value={target}
            placeholder="models:/team/mnist"
            onInput={(e) => setTarget(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={error} />
      {!data && !error ? <Loading what="the audit log" /> : null}
      {data && entries.length === 0 ? <p class="muted">No entries.</p> : null}
      {pager}
      {entries.length > 0 ? (
        <div class="table-wrap">
          <table class="audit">
            <thead>
              <tr>
                <th>#</th>
                <th>Time</th>
                <th>Who</th>
                <th>Did</th>
                <th>Target</th>
                <th>Change</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id} data-id={e.id}>
                  <td class="num">{e.id}</td>
                  <td class="nowrap">{formatTime(e.time)}</td>
                  <td>{e.actor}</td>
                  <td>
                    {ACTIONS[e.action] ?? e.action} <div class="muted small">{e.action}</div>
                  </td>
                  <td>
                    <Target target={e.target} />
                  </td>
                  <td>
                    <ul class="change">
                      {describeChange(e.before, e.after).map((c) => (
                        <li key={c.field} title={`${c.from ?? ''} → ${c.to ?? ''}`}>
                          <strong>{c.field}</strong>:{' '}
                          {c.from !== undefined && c.to !== undefined
                            ? `${cut(c.from)} → ${cut(c.to)}`
                            : c.to !== undefined
                              ? cut(c.to)
                              : `removed (was ${cut(c.from ?? '-')})`}
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {entries.length > 10 ? pager : null}
    </section>
  );
}
