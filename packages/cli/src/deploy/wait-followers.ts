import { type Deployment, type RegistryClient, registryError } from '@ferry/registry-client';

/** How often the registry is asked while waiting (servers report as soon as they switch). */
const POLL_MS = 100;

export interface Switched {
  /** Each deployment following the alias, with the endpoints now serving the new version. */
  readonly deployments: readonly { name: string; endpoints: readonly (string | null)[] }[];
}

/**
 * After `alias set`: waits until every live server of every deployment that follows
 * models:/MODEL@ALIAS says it serves `version` (servers subscribed to alias events switch at once;
 * others on their next poll). Offline endpoints (heartbeat expired) are not waited for. A server
 * that reports a failure after the move, or the timeout, is FERRY_REGISTRY_ROLLOUT.
 */
export async function waitForFollowers(
  client: RegistryClient,
  target: { model: string; alias: string; version: number },
  timeoutMs: number,
  movedAt: string,
): Promise<Switched> {
  const end = Date.now() + timeoutMs;
  const fail = (reason: string) => registryError('FERRY_REGISTRY_ROLLOUT', { ...target, reason });
  for (;;) {
    const following = (await client.listDeployments(target.model)).filter((d) => d.alias === target.alias);
    const lagging: string[] = [];
    for (const d of following)
      for (const e of live(d)) {
        if (e.status === 'failed' && e.reportedAt >= movedAt)
          throw fail(`deployment ${d.name} at ${e.endpoint ?? 'a server'} failed: ${e.message}`);
        if (e.status !== 'serving' || e.liveVersion !== target.version)
          lagging.push(`${d.name} at ${e.endpoint ?? 'a server'} serves ${e.liveVersion ?? 'nothing'}`);
      }
    if (lagging.length === 0)
      return {
        deployments: following.map((d) => ({ name: d.name, endpoints: live(d).map((e) => e.endpoint) })),
      };
    if (Date.now() > end)
      throw fail(`not switched after ${Math.round(timeoutMs / 1000)} s: ${lagging.join('; ')}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Servers still reporting (a stopped one's heartbeat expired: nothing to wait for). */
const live = (d: Deployment) => d.endpoints.filter((e) => e.status === 'serving' || e.status === 'failed');
