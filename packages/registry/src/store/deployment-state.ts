import type { Deployment, DeploymentEndpoint } from '@ferry/registry-client';

/**
 * One deployment's state from all its servers' states. Any server serving it makes it `serving`
 * (the endpoint field names the first, in endpoint order); with none serving, a live one that
 * failed makes it `failed`; with none live it is `offline`; before any report, `pending`.
 */
export function summarizeEndpoints(
  endpoints: readonly DeploymentEndpoint[],
): Pick<Deployment, 'status' | 'endpoint' | 'liveVersion' | 'message' | 'reportedAt'> {
  const reportedAt = endpoints.reduce<string | null>(
    (newest, e) => (newest === null || e.reportedAt > newest ? e.reportedAt : newest),
    null,
  );
  const serving = endpoints.filter((e) => e.status === 'serving');
  const failed = endpoints.filter((e) => e.status === 'failed');
  const live = [...serving, ...failed];
  const versions = live.map((e) => e.liveVersion).filter((v): v is number => v !== null);
  // During a move the servers may briefly differ: the newest version any of them serves.
  const liveVersion = versions.length > 0 ? Math.max(...versions) : null;
  if (endpoints.length === 0)
    return { status: 'pending', endpoint: null, liveVersion: null, message: '', reportedAt: null };
  if (serving.length > 0)
    return {
      status: 'serving',
      endpoint: serving[0]!.endpoint,
      liveVersion,
      message: failed.map((e) => `${e.endpoint ?? 'a server'}: ${e.message}`).join('; '),
      reportedAt,
    };
  if (failed.length > 0)
    return {
      status: 'failed',
      endpoint: null,
      liveVersion,
      message: failed.map((e) => e.message).join('; '),
      reportedAt,
    };
  return {
    status: 'offline',
    endpoint: null,
    liveVersion: null,
    message:
      endpoints.length === 1
        ? endpoints[0]!.message || 'its server stopped'
        : `none of its ${endpoints.length} servers is live`,
    reportedAt,
  };
}
