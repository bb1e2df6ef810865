import type { ComponentChild } from 'preact';
import { useState } from 'preact/hooks';
import { modelPath, type VersionSharing } from '../api.js';
import { formatBytes, formatPercent } from '../format.js';
import { useApi } from '../hooks.js';
import { href, nodeHref } from '../router.js';
import { ErrorBox, Loading } from './status.js';

/** The diff answer's fields this view reads (pages/version.tsx declares the whole shape). */
interface TensorChanges {
  a: { tensors: number };
  b: { model: string; version: number };
  onlyInA: string[];
  onlyInB: string[];
  tensors: { name: string; status: string }[];
}

/** Changed tensor names listed before "and N more". */
const MAX_NAMES = 20;
/**
 * Versions up to this size list their changed tensors with the page; larger ones on request: the
 * diff reads both versions' tensor values, which for multi-GB checkpoints is not a page view's work.
 */
const AUTO_DIFF_BYTES = 256 * 1024 * 1024;

/** `models:/NAME/N` as the page names it: `vN` in the same model, `NAME vN` in another. */
function versionLabel(uri: string, model: string): string {
  const m = /^models:\/(.+)\/(\d+)$/.exec(uri);
  if (!m) return uri;
  return m[1] === model ? `v${m[2]}` : `${m[1]} v${m[2]}`;
}

/** Bytes with the exact count on hover, for a reader checking against `ferry inspect`. */
const Bytes = ({ n }: { n: number }) => (
  <span title={`${n.toLocaleString('en')} bytes`}>{formatBytes(n)}</span>
);

/**
 * How much of a version's stored bytes it shares with its parent (the version it was derived
 * from, else the previous one) and with any other version, from
 * `GET .../versions/N/sharing` (chunk dedup, issue #20), and which tensors changed since the
 * parent where the registry can read both versions' tensors (the diff route).
 */
export function VersionSharingView({
  name,
  version,
  readable,
}: {
  name: string;
  version: number;
  /** The version's tensors can be listed (a model file, not marked unsafe). */
  readable: boolean;
}) {
  const sharing = useApi<VersionSharing>(`${modelPath(name)}/versions/${version}/sharing`);
  if (sharing.error) return <ErrorBox error={sharing.error} />;
  if (!sharing.data) return <Loading what="shared bytes" />;
  const s = sharing.data;
  if (s.bytes === 0)
    return (
      <p class="muted">
        {s.size > 0
          ? 'Stored as whole files (pushed before chunk dedup): no shared-bytes figures.'
          : 'No stored bytes.'}
      </p>
    );
  const parent = s.parent ? versionLabel(s.parent, name) : null;
  const rows: { key: string; label: ComponentChild; bytes: number | null }[] = [
    {
      key: 'parent',
      label: parent ? (
        <>
          its parent, <a href={nodeHref(s.parent!)}>{parent}</a>
        </>
      ) : (
        'its parent (none: the first version)'
      ),
      bytes: parent ? s.sharedWithParent : null,
    },
    { key: 'any', label: 'any other version', bytes: s.sharedWithAny },
    { key: 'own', label: 'no other version (new in this one)', bytes: s.bytes - s.sharedWithAny },
  ];
  return (
    <>
      <p>
        <Bytes n={s.size} /> in files, stored as <Bytes n={s.bytes} /> of distinct chunks.
      </p>
      <div class="table-wrap">
        <table class="sharing">
          <caption class="visually-hidden">
            Stored bytes of version {version} shared with other versions
          </caption>
          <thead>
            <tr>
              <th scope="col">Shared with</th>
              <th scope="col">Bytes</th>
              <th scope="col">Of this version</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} data-row={r.key} data-bytes={r.bytes ?? ''}>
                <th scope="row">{r.label}</th>
                <td class="num">{r.bytes === null ? '-' : <Bytes n={r.bytes} />}</td>
                <td class="num">
                  {r.bytes === null ? (
                    '-'
                  ) : (
                    <span class="share">
                      <span class="share-bar" aria-hidden="true">
                        <span style={{ width: `${(100 * r.bytes) / s.bytes}%` }} />
                      </span>
                      {formatPercent(r.bytes, s.bytes)}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {s.parent && readable ? (
        <ChangedTensors name={name} version={version} parent={s.parent} label={parent!} size={s.size} />
      ) : null}
    </>
  );
}

/** The tensors that differ from the parent's, by the registry's tensor-by-tensor diff. */
function ChangedTensors({
  name,
  version,
  parent,
  label,
  size,
}: {
  name: string;
  version: number;
  parent: string;
  label: string;
  size: number;
}) {
  const [asked, setAsked] = useState(size <= AUTO_DIFF_BYTES);
  const diff = useApi<TensorChanges>(
    asked ? `${modelPath(name)}/versions/${version}/diff?against=${encodeURIComponent(parent)}` : null,
  );
  if (!asked)
    return (
      <p class="changed">
        <button type="button" onClick={() => setAsked(true)}>
          List the tensors changed since {label}
        </button>{' '}
        <span class="muted">(reads both versions: {formatBytes(size)} here)</span>
      </p>
    );
  if (diff.error)
    return (
      <p class="muted" data-changed="unknown">
        Which tensors changed since {label} is not known: {diff.error.message}
      </p>
    );
  if (!diff.data) return <Loading what={`the tensors changed since ${label}`} />;
  const d = diff.data;
  const changed = d.tensors.filter((t) => t.status !== 'equal');
  const names = [
    ...changed.map((t) => ({ name: t.name, what: t.status })),
    ...d.onlyInA.map((n) => ({ name: n, what: `only in v${version}` })),
    ...d.onlyInB.map((n) => ({ name: n, what: `only in ${label}` })),
  ];
  const sameModel = d.b.model === name;
  const summary =
    names.length === 0
      ? `No tensor changed since ${label}.`
      : `${changed.length + d.onlyInA.length} of this version's ${d.a.tensors} tensor(s) changed or added since ${label}` +
        (d.onlyInB.length > 0 ? `, ${d.onlyInB.length} removed:` : ':');
  return (
    <div class="changed" data-changed={changed.length + d.onlyInA.length}>
      <p>
        {summary} {sameModel ? <a href={href.version(name, version, d.b.version)}>full diff</a> : null}
      </p>
      {names.length > 0 ? (
        <ul class="changed-tensors">
          {names.slice(0, MAX_NAMES).map((t) => (
            <li key={t.name}>
              <code>{t.name}</code> <span class="muted">({t.what})</span>
            </li>
          ))}
          {names.length > MAX_NAMES ? <li class="muted">and {names.length - MAX_NAMES} more</li> : null}
        </ul>
      ) : null}
    </div>
  );
}
