import { useState } from 'preact/hooks';
import { enc, type Finding, modelPath, type TensorSpec, type Version } from '../api.js';
import { ErrorBox, PageError, Loading, ScanBadge, scanExplanation } from '../components/status.js';
import { VersionSharingView } from '../components/version-sharing.js';
import { formatBytes, formatCount, formatTime } from '../format.js';
import { useApi } from '../hooks.js';
import { href } from '../router.js';

interface TensorTable {
  file: string;
  format: string;
  parameters: number;
  bytes: number;
  total: number;
  tensors: { name: string; dtype: string; shape: number[]; bytes: number }[];
  opaque: { name: string; shape: number[]; bytes: number }[];
  metadata: Record<string, string>;
  findings: Finding[];
}

interface ScanAnswer {
  scan: string;
  files: {
    path: string;
    format: string;
    verdict: string;
    findings: Finding[];
    error?: { code: string; message: string };
  }[];
}

interface DiffAnswer {
  a: { version: number; file: string; format: string; tensors: number };
  b: { model: string; version: number; file: string; format: string; tensors: number };
  equal: boolean;
  onlyInA: string[];
  onlyInB: string[];
  tensors: {
    name: string;
    status: string;
    dtypeA: string;
    dtypeB: string;
    shapeA: number[];
    shapeB: number[];
    maxAbsDiff: number | 'inf' | null;
  }[];
}

/** What a scan rule means, for the findings list (rules come from @ferry/formats' scanners). */
const SEVERITY_TEXT: Record<string, string> = {
  critical: 'runs code when the file is loaded: do not load it outside a sandbox',
  high: 'can run code or reach outside the model when loaded',
  medium: 'unusual content worth a look before loading',
  low: 'informational',
  info: 'informational',
};

const shape = (s: readonly number[]) => `[${s.join(', ')}]`;

export function VersionPage({
  name,
  version,
  against,
}: {
  name: string;
  version: number;
  against: number | null;
}) {
  const v = useApi<Version>(`${modelPath(name)}/versions/${version}`);
  const all = useApi<{ versions: Version[] }>(`${modelPath(name)}/versions`);
  const hasModelFile = v.data?.files.some((f) => f.format !== null) ?? false;
  // An unsafe file is refused by the reader (nothing in it is trusted), so there is no table to ask for.
  const listable = hasModelFile && v.data?.scan !== 'unsafe';
  const tensors = useApi<TensorTable>(listable ? `${modelPath(name)}/versions/${version}/tensors` : null);
  const scan = useApi<ScanAnswer>(hasModelFile ? `${modelPath(name)}/versions/${version}/scan` : null);
  const [filter, setFilter] = useState('');

  if (v.error) return <PageError error={v.error} />;
  if (!v.data) return <Loading what={`${name} version ${version}`} />;
  const data = v.data;
  const findings = (scan.data?.files ?? []).flatMap((file) =>
    file.findings.map((f) => ({ file: file.path, ...f })),
  );
  const refused = (scan.data?.files ?? []).filter((f) => f.error);
  const others = (all.data?.versions ?? []).filter((o) => o.version !== version);
  const shown = (tensors.data?.tensors ?? []).filter((t) => t.name.includes(filter));

  return (
    <section>
      <nav class="crumbs" aria-label="breadcrumb">
        <a href={href.models()}>Models</a> / <a href={href.model(name)}>{name}</a> / version {version}
      </nav>
      <h1>
        {name} <span class="muted">v{version}</span> <ScanBadge scan={data.scan} />
      </h1>
      <dl class="facts">
        <dt>Status</dt>
        <dd>{data.status}</dd>
        <dt>Created</dt>
        <dd>
          {formatTime(data.createdAt)} by {data.createdBy}
        </dd>
        <dt>Digest</dt>
        <dd>
          <code class="wrap">{data.digest ?? '-'}</code>
        </dd>
        <dt>Run</dt>
        <dd>{data.runId ? <a href={href.run(data.runId)}>{data.runId}</a> : '-'}</dd>
        <dt>Aliases</dt>
        <dd>{data.aliases.join(', ') || '-'}</dd>
        <dt>Tags</dt>
        <dd>
          {Object.entries(data.tags).map(([k, v]) => (
            <span key={k} class="badge tag">
              {k}={v}
            </span>
          ))}
          {Object.keys(data.tags).length === 0 ? '-' : null}
        </dd>
        <dt>Source</dt>
        <dd>{data.sourceUri ? <code class="wrap">{data.sourceUri}</code> : '-'}</dd>
        <dt>Lineage</dt>
        <dd>
          <a href={href.lineage(`models:/${name}/${version}`)}>lineage graph</a>
        </dd>
      </dl>
      {data.description ? <p>{data.description}</p> : null}

      <Signature version={data} />

      <h2>Scan</h2>
      <p>{scanExplanation(data.scan)}</p>
      {data.scanDetail ? (
        <p>
          <code class="wrap">{data.scanDetail}</code>
        </p>
      ) : null}
      <ErrorBox error={scan.error} />
      {refused.map((f) => (
        <p key={f.path} class="error">
          {f.path}: <code>{f.error!.code}</code> {f.error!.message}
        </p>
      ))}
      {findings.length > 0 ? (
        <ul class="findings">
          {findings.map((f, i) => (
            <li key={i} class={`sev-${f.severity}`}>
              <strong>{f.severity}</strong> <code>{f.rule}</code> in {f.file}
              {f.location ? ` (${f.location})` : ''}: {f.message}
              <div class="muted small">{SEVERITY_TEXT[f.severity] ?? ''}</div>
            </li>
          ))}
        </ul>
      ) : scan.data ? (
        <p class="muted">No findings.</p>
      ) : null}

      <h2>Files</h2>
      <div class="table-wrap">
        <table class="files">
          <thead>
            <tr>
              <th>Path</th>
              <th>Format</th>
              <th>Size</th>
              <th>sha256</th>
            </tr>
          </thead>
          <tbody>
            {data.files.map((f) => (
              <tr key={f.path}>
                <td>
                  <a
                    href={`${modelPath(name)}/versions/${version}/files/${f.path.split('/').map(enc).join('/')}${
                      data.scan === 'unsafe' ? '?force=true' : ''
                    }`}
                    download
                  >
                    {f.path}
                  </a>
                </td>
                <td>{f.format ?? '-'}</td>
                <td class="num">{formatBytes(f.size)}</td>
                <td>
                  <code title={f.sha256}>{f.sha256.slice(0, 12)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2 id="sharing">Shared bytes</h2>
      <VersionSharingView name={name} version={version} readable={listable} />

      <h2>Tensors</h2>
      {!hasModelFile ? <p class="muted">No file of this version is a model format ferry reads.</p> : null}
      {hasModelFile && !listable ? (
        <p class="muted">Not listed: the scan marked this version unsafe (see Scan above).</p>
      ) : null}
      <ErrorBox error={tensors.error} />
      {listable && !tensors.data && !tensors.error ? <Loading what="tensors" /> : null}
      {tensors.data ? (
        <>
          <p class="muted">
            {tensors.data.file} ({tensors.data.format}): {tensors.data.total} tensor(s),{' '}
            {formatCount(tensors.data.parameters)} parameters, {formatBytes(tensors.data.bytes)}
            {tensors.data.total > tensors.data.tensors.length
              ? ` (first ${tensors.data.tensors.length} listed)`
              : ''}
          </p>
          <label class="inline">
            Filter tensors{' '}
            <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
          </label>
          <div class="table-wrap scroll">
            <table class="tensors">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>dtype</th>
                  <th>Shape</th>
                  <th>Bytes</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((t) => (
                  <tr key={t.name}>
                    <td>
                      <code>{t.name}</code>
                    </td>
                    <td>{t.dtype}</td>
                    <td>{shape(t.shape)}</td>
                    <td class="num">{formatBytes(t.bytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}

      <h2 id="diff">Diff</h2>
      {others.length === 0 ? (
        <p class="muted">This is the only version.</p>
      ) : (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            const value = (e.currentTarget.elements.namedItem('against') as HTMLSelectElement).value;
            location.hash = href.version(name, version, Number(value));
          }}
        >
          <label>
            Compare with version{' '}
            <select name="against" value={against ?? others[0]?.version}>
              {others.map((o) => (
                <option key={o.version} value={o.version}>
                  {o.version}
                </option>
              ))}
            </select>
          </label>{' '}
          <button type="submit">Diff</button>
        </form>
      )}
      {against !== null ? <DiffView name={name} version={version} against={against} /> : null}
    </section>
  );
}

function DiffView({ name, version, against }: { name: string; version: number; against: number }) {
  const diff = useApi<DiffAnswer>(`${modelPath(name)}/versions/${version}/diff?against=${against}`);
  if (diff.error) return <ErrorBox error={diff.error} />;
  if (!diff.data) return <Loading what="the diff" />;
  const d = diff.data;
  const changed = d.tensors.filter((t) => t.status !== 'equal');
  return (
    <div class="diff" aria-live="polite">
      <p>
        <strong>
          v{d.a.version} vs v{d.b.version}:
        </strong>{' '}
        {d.equal
          ? 'identical tensors'
          : `${changed.length} of ${d.tensors.length} shared tensor(s) differ, ${d.onlyInA.length} only in v${d.a.version}, ${d.onlyInB.length} only in v${d.b.version}`}{' '}
        <span class="muted">
          ({d.a.file}, {d.a.format} / {d.b.file}, {d.b.format})
        </span>
      </p>
      <div class="table-wrap scroll">
        <table class="diff-table">
          <thead>
            <tr>
              <th>Tensor</th>
              <th>Status</th>
              <th>v{d.a.version}</th>
              <th>v{d.b.version}</th>
              <th>max |a−b|</th>
            </tr>
          </thead>
          <tbody>
            {d.onlyInA.map((n) => (
              <tr key={`a-${n}`} class="st-removed">
                <td>
                  <code>{n}</code>
                </td>
                <td>only in v{d.a.version}</td>
                <td>✓</td>
                <td>-</td>
                <td>-</td>
              </tr>
            ))}
            {d.onlyInB.map((n) => (
              <tr key={`b-${n}`} class="st-added">
                <td>
                  <code>{n}</code>
                </td>
                <td>only in v{d.b.version}</td>
                <td>-</td>
                <td>✓</td>
                <td>-</td>
              </tr>
            ))}
            {d.tensors.map((t) => (
              <tr key={t.name} class={`st-${t.status}`}>
                <td>
                  <code>{t.name}</code>
                </td>
                <td>{t.status}</td>
                <td>
                  {t.dtypeA} {shape(t.shapeA)}
                </td>
                <td>
                  {t.dtypeB} {shape(t.shapeB)}
                </td>
                <td class="num">
                  {t.maxAbsDiff === null ? '-' : t.maxAbsDiff === 'inf' ? '∞' : t.maxAbsDiff.toPrecision(4)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** A dimension as inspect gives it: a number, -1 or a name for a varying one. */
const dim = (d: number | string) => (typeof d === 'number' && d < 0 ? '?' : String(d));

/**
 * The model's inputs and outputs, from the inspect summary stored when the version was pushed
 * (nothing is read again): what a caller must send and gets back.
 */
function Signature({ version }: { version: Version }) {
  const files = Object.entries(version.inspect?.files ?? {}).filter(
    ([, f]) => (f.inputs?.length ?? 0) + (f.outputs?.length ?? 0) > 0,
  );
  if (files.length === 0) return null;
  const rows = (side: string, list: TensorSpec[] = []) =>
    list.map((t) => (
      <tr key={`${side}-${t.name}`} class={`io-${side}`}>
        <td>{side}</td>
        <td>
          <code>{t.name}</code>
        </td>
        <td>{t.dtype}</td>
        <td>{t.shape === null ? 'unknown' : `[${t.shape.map(dim).join(', ')}]`}</td>
      </tr>
    ));
  return (
    <>
      <h2>Inputs and outputs</h2>
      {files.map(([path, f]) => (
        <div key={path}>
          {files.length > 1 || Object.keys(version.inspect?.files ?? {}).length > 1 ? (
            <p class="muted">{path}</p>
          ) : null}
          <div class="table-wrap">
            <table class="signature">
              <thead>
                <tr>
                  <th>Side</th>
                  <th>Name</th>
                  <th>dtype</th>
                  <th>Shape</th>
                </tr>
              </thead>
              <tbody>
                {rows('input', f.inputs)}
                {rows('output', f.outputs)}
              </tbody>
            </table>
          </div>
        </div>
      ))}
    </>
  );
}
