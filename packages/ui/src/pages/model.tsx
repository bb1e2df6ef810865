import { useEffect, useState } from 'preact/hooks';
import {
  ApiError,
  type AuditEntry,
  api,
  type Model,
  modelPath,
  type Version,
  versionTotals,
} from '../api.js';
import { allows } from '../access.js';
import { ConfirmDialog } from '../components/confirm.js';
import { ModelDeployments } from '../components/model-deployments.js';
import { ErrorBox, PageError, Loading, ScanBadge } from '../components/status.js';
import { formatBytes, formatCount, formatTime } from '../format.js';
import { LIVE_REFRESH_MS, useApi, useWhoami } from '../hooks.js';
import { Markdown } from '../markdown.js';
import { href } from '../router.js';

interface Pending {
  alias: string;
  from: number | undefined;
  to: number;
  kind: 'promote' | 'rollback';
}

export function ModelPage({ name }: { name: string }) {
  const { who } = useWhoami();
  // Re-read like the deployments below, so an alias moved elsewhere (CLI, another tab) shows too.
  const model = useApi<Model>(modelPath(name), LIVE_REFRESH_MS);
  const card = useApi<{ body: string; metadata: Record<string, unknown> }>(`${modelPath(name)}/card`);
  const versions = useApi<{ versions: Version[] }>(`${modelPath(name)}/versions`);
  const [pending, setPending] = useState<Pending | null>(null);
  const [actionError, setActionError] = useState<Error | undefined>();
  const [notice, setNotice] = useState('');
  const [promoteAlias, setPromoteAlias] = useState('');
  const [promoteVersion, setPromoteVersion] = useState('');
  // Which aliases are protected (moving them needs admin): one small GET per alias.
  const [protectedAliases, setProtected] = useState<ReadonlySet<string>>(new Set());
  // (Keyed by the alias names, not the polled answer: no requests while nothing changes.)
  const aliasNames = Object.keys(model.data?.aliases ?? {})
    .sort()
    .join('\n');
  useEffect(() => {
    const aliases = aliasNames === '' ? [] : aliasNames.split('\n');
    let live = true;
    Promise.all(
      aliases.map((a) =>
        api<{ protected: boolean }>(`${modelPath(name)}/aliases/${encodeURIComponent(a)}`).then(
          (info) => (info.protected ? a : null),
          () => null,
        ),
      ),
    ).then((list) => live && setProtected(new Set(list.filter((a): a is string => a !== null))));
    return () => {
      live = false;
    };
  }, [aliasNames, name]);

  // A failed refresh keeps the page (and says so below); only a first load that failed is a page error.
  if (model.error && !model.data) return <PageError error={model.error} />;
  if (!model.data) return <Loading what={name} />;
  const m = model.data;
  const list = versions.data?.versions ?? [];
  const canWrite = allows(who.scopes, 'write', m.name);
  const canAdmin = allows(who.scopes, 'admin', m.name);

  /** The version an alias pointed to before its last move (audit log, model admins), else the next older ready one. */
  const rollbackTarget = async (alias: string, current: number): Promise<number | undefined> => {
    if (canAdmin) {
      try {
        const { entries } = await api<{ entries: AuditEntry[] }>(
          `/api/v1/audit?target=${encodeURIComponent(`models:/${m.name}@${alias}`)}&limit=1000`,
        );
        const moves = entries.filter((e) => e.action === 'alias.set');
        const last = moves[moves.length - 1];
        const before = (last?.before as { version?: number } | null)?.version;
        if (before !== undefined && before !== current) return before;
      } catch {
        // fall through to the version order
      }
    }
    return list
      .map((v) => v.version)
      .filter((v) => v < current)
      .sort((a, b) => b - a)[0];
  };

  const move = async (p: Pending) => {
    setPending(null);
    setActionError(undefined);
    try {
      await api(`${modelPath(m.name)}/aliases/${encodeURIComponent(p.alias)}`, {
        method: 'PUT',
        body: { version: p.to },
      });
      setNotice(`${p.alias} now points to version ${p.to}${p.from ? ` (was ${p.from})` : ''}.`);
      model.reload();
      versions.reload();
    } catch (error) {
      setActionError(error as Error);
    }
  };

  return (
    <section>
      <nav class="crumbs" aria-label="breadcrumb">
        <a href={href.models()}>Models</a> / {m.name}
      </nav>
      <h1>
        {m.name} <span class={`badge vis-${m.visibility}`}>{m.visibility}</span>
      </h1>
      {m.description ? <p>{m.description}</p> : null}
      {model.error ? <ErrorBox error={model.error} /> : null}
      <div class="tags">
        {Object.entries(m.tags).map(([k, v]) => (
          <span key={k} class="badge tag">
            {k}={v}
          </span>
        ))}
      </div>

      <h2>Aliases</h2>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorBox error={actionError} />
      {!canWrite ? (
        <p class="muted">
          {who.anonymous ? (
            <>
              <a href={href.login()}>Log in</a> with a token that has write access to move aliases.
            </>
          ) : (
            `Your token (${who.user}) has no write scope on ${m.name}: aliases are read-only.`
          )}
        </p>
      ) : null}
      <div class="table-wrap">
        <table class="aliases">
          <thead>
            <tr>
              <th>Alias</th>
              <th>Version</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(m.aliases).map(([alias, version]) => (
              <tr key={alias}>
                <td>
                  <code>
                    models:/{m.name}@{alias}
                  </code>
                </td>
                <td>
                  <a href={href.version(m.name, version)}>{version}</a>
                </td>
                <td>
                  {protectedAliases.has(alias) ? <span class="badge protected">protected</span> : null}
                  {canWrite ? (
                    <button
                      type="button"
                      disabled={protectedAliases.has(alias) && !canAdmin}
                      title={
                        protectedAliases.has(alias) && !canAdmin
                          ? `${alias} is protected: moving it needs the admin scope`
                          : undefined
                      }
                      onClick={async () => {
                        const to = await rollbackTarget(alias, version);
                        if (to === undefined)
                          setActionError(new Error(`no earlier version to roll ${alias} back to`));
                        else setPending({ alias, from: version, to, kind: 'rollback' });
                      }}
                    >
                      Roll back {alias}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {canWrite && list.length > 0 ? (
        <form
          class="promote"
          onSubmit={(e) => {
            e.preventDefault();
            const alias = promoteAlias.trim();
            const to = Number(promoteVersion || list[0]?.version);
            if (!alias || !to) return;
            setPending({ alias, from: m.aliases[alias], to, kind: 'promote' });
          }}
        >
          <label>
            Alias
            <input
              required
              list="alias-names"
              value={promoteAlias}
              placeholder="prod"
              pattern="[A-Za-z0-9._\-]{1,64}"
              onInput={(e) => setPromoteAlias(e.currentTarget.value)}
            />
            <datalist id="alias-names">
              {Object.keys(m.aliases).map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </label>
          <label>
            Version
            <select value={promoteVersion} onChange={(e) => setPromoteVersion(e.currentTarget.value)}>
              {list.map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="primary">
            Promote
          </button>
        </form>
      ) : null}

      <h2>Deployments</h2>
      <ModelDeployments model={m.name} aliases={m.aliases} />

      <h2>Versions</h2>
      <ErrorBox error={versions.error} />
      <div class="table-wrap">
        <table class="versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Status</th>
              <th>Scan</th>
              <th>Format</th>
              <th>Size</th>
              <th>Parameters</th>
              <th>Run</th>
              <th>Aliases</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.map((v) => {
              const t = versionTotals(v);
              return (
                <tr key={v.version}>
                  <td>
                    <a href={href.version(m.name, v.version)}>{v.version}</a>
                  </td>
                  <td>{v.status}</td>
                  <td>
                    <ScanBadge scan={v.scan} />
                  </td>
                  <td>{t.format}</td>
                  <td class="num">{formatBytes(v.files.reduce((s, f) => s + f.size, 0))}</td>
                  <td class="num">{t.parameters ? formatCount(t.parameters) : '-'}</td>
                  <td>{v.runId ? <a href={href.run(v.runId)}>{v.runId.slice(0, 8)}</a> : '-'}</td>
                  <td>
                    {v.aliases.map((a) => (
                      <span key={a} class="badge alias">
                        {a}
                      </span>
                    ))}
                  </td>
                  <td class="nowrap">{formatTime(v.createdAt)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <h2>Model card</h2>
      {card.data ? (
        <article class="card">
          <Markdown text={card.data.body} />
        </article>
      ) : card.error instanceof ApiError && card.error.status === 404 ? (
        <p class="muted">This model has no card yet.</p>
      ) : (
        <ErrorBox error={card.error} />
      )}

      {pending ? (
        <ConfirmDialog
          title={pending.kind === 'rollback' ? `Roll back ${pending.alias}?` : `Promote to ${pending.alias}?`}
          message={`models:/${m.name}@${pending.alias} will point to version ${pending.to}${
            pending.from !== undefined ? ` instead of version ${pending.from}` : ''
          }. Anything that follows this alias switches to it.`}
          confirmLabel={pending.kind === 'rollback' ? 'Roll back' : 'Promote'}
          onConfirm={() => move(pending)}
          onCancel={() => setPending(null)}
        />
      ) : null}
    </section>
  );
}
