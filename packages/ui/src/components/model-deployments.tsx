import { type Deployment, enc } from '../api.js';
import { LIVE_REFRESH_MS, useApi } from '../hooks.js';
import { href } from '../router.js';
import { ErrorBox } from './status.js';

/**
 * Where a model is deployed: each deployment following one of its aliases, the version its server
 * reported live, re-read every LIVE_REFRESH_MS so a promotion or a rollback shows up as the server
 * swaps versions. `aliases` (the model's, as the page last read them) tells a deployment whose
 * alias moved but whose server has not reported the new version yet.
 */
export function ModelDeployments({
  model,
  aliases,
}: {
  model: string;
  aliases: Readonly<Record<string, number>>;
}) {
  const list = useApi<{ deployments: Deployment[] }>(
    `/api/v1/deployments?model=${enc(model)}`,
    LIVE_REFRESH_MS,
  );
  const deployments = list.data?.deployments ?? [];
  return (
    <>
      <ErrorBox error={list.error} />
      {list.data && deployments.length === 0 ? (
        <p class="muted">
          Not deployed: no deployment follows an alias of this model (
          <code>ferry deploy models:/{model}@ALIAS</code>).
        </p>
      ) : null}
      {deployments.length > 0 ? (
        <div class="table-wrap">
          <table class="deployments">
            <thead>
              <tr>
                <th>Served as</th>
                <th>Follows</th>
                <th>Live version</th>
                <th>Status</th>
                <th>Endpoint</th>
              </tr>
            </thead>
            <tbody aria-live="polite">
              {deployments.map((d) => {
                const target = aliases[d.alias];
                const switching =
                  target !== undefined &&
                  d.liveVersion !== null &&
                  d.liveVersion !== undefined &&
                  target !== d.liveVersion;
                return (
                  <tr key={d.name} data-deployment={d.name} data-live-version={d.liveVersion ?? ''}>
                    <td>
                      <a href={href.deployments()}>{d.name}</a>
                    </td>
                    <td>
                      <code>@{d.alias}</code>
                      {target !== undefined ? <> (version {target})</> : null}
                    </td>
                    <td>
                      {d.liveVersion ? <a href={href.version(model, d.liveVersion)}>{d.liveVersion}</a> : '-'}
                      {switching && d.status !== 'failed' ? (
                        <span class="muted"> (switching to {target})</span>
                      ) : null}
                    </td>
                    <td>
                      {d.status ? <span class={`badge dep-${d.status}`}>{d.status}</span> : '-'}
                      {d.message ? <span class="muted"> {d.message}</span> : null}
                    </td>
                    <td>{d.endpoint ? <code>{d.endpoint}</code> : '-'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
