import type { MetadataStore, Queryable, Row } from './metadata-store.js';

import {
  DEPLOYMENT_STATUSES,
  type Deployment,
  type DeploymentEndpoint,
  type DeploymentStatus,
} from '@ferry/registry-client';
import { summarizeEndpoints } from './deployment-state.js';

/** The deployment wire type and its statuses are declared in @ferry/registry-client. */
export { DEPLOYMENT_STATUSES, type Deployment, type DeploymentEndpoint, type DeploymentStatus };

/**
 * How long a server's last heartbeat counts: three missed beats of `ferry serve`'s default 10 s
 * heartbeat (DEFAULT_HEARTBEAT_MS in @ferry/serve) before its endpoint reads as offline.
 */
export const DEFAULT_DEPLOYMENT_EXPIRY_MS = 30_000;

const toEndpoint = (r: Row, now: number, expiryMs: number): DeploymentEndpoint => {
  const reportedAt = String(r.reported_at);
  const expired = r.status !== 'offline' && now - Date.parse(reportedAt) > expiryMs;
  return {
    endpoint: r.endpoint === '' ? null : String(r.endpoint),
    status: expired ? 'offline' : (String(r.status) as DeploymentStatus),
    // a server that stopped serves nothing, whatever it last said
    liveVersion:
      expired || r.status === 'offline' || r.live_version === null || r.live_version === undefined
        ? null
        : Number(r.live_version),
    message: expired
      ? `no heartbeat since ${reportedAt} (expiry ${Math.round(expiryMs / 1000)} s)`
      : String(r.message ?? ''),
    reportedAt,
  };
};

const toDeployment = (r: Row, endpoints: readonly DeploymentEndpoint[]): Deployment => ({
  name: String(r.name),
  model: String(r.model),
  alias: String(r.alias),
  uri: `models:/${String(r.model)}@${String(r.alias)}`,
  config: typeof r.config === 'string' ? (JSON.parse(r.config) as Record<string, unknown>) : null,
  endpoints,
  ...summarizeEndpoints(endpoints),
  createdAt: String(r.created_at),
  updatedAt: String(r.updated_at),
  createdBy: String(r.created_by),
});

async function audit(
  tx: Queryable,
  time: string,
  actor: string,
  action: string,
  target: string,
  before: unknown,
  after: unknown,
): Promise<void> {
  await tx.query(
    'INSERT INTO audit_log (time, actor, action, target, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?)',
    [
      time,
      actor,
      action,
      target,
      before === null ? null : JSON.stringify(before),
      after === null ? null : JSON.stringify(after),
    ],
  );
}

/**
 * Deployments and the state each of their servers reports. Every change is audited in its own
 * transaction; a server's endpoint whose heartbeat is older than `expiryMs` reads as offline.
 */
export class DeploymentStore {
  constructor(
    private readonly store: MetadataStore,
    /** Changed by the server's options (tests shorten it); read at every listing. */
    public expiryMs: number = DEFAULT_DEPLOYMENT_EXPIRY_MS,
  ) {}

  /** Creates or replaces the deployment `name` (its reported state is kept when the target is unchanged). */
  async put(
    actor: string,
    input: {
      name: string;
      model: string;
      alias: string;
      config?: Record<string, unknown> | null;
      endpoint?: string | null;
    },
  ): Promise<{ deployment: Deployment; created: boolean }> {
    const time = new Date().toISOString();
    const { row, created } = await this.store.transaction(async (tx) => {
      const [before] = await tx.query('SELECT * FROM deployments WHERE name = ?', [input.name]);
      const config = input.config ? JSON.stringify(input.config) : null;
      if (!before)
        await tx.query(
          'INSERT INTO deployments (name, model, alias, config, endpoint, status, live_version, message, reported_at, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?, ?)',
          [
            input.name,
            input.model,
            input.alias,
            config,
            input.endpoint ?? null,
            'pending',
            '',
            time,
            time,
            actor,
          ],
        );
      else {
        const retarget = before.model !== input.model || before.alias !== input.alias;
        await tx.query(
          'UPDATE deployments SET model = ?, alias = ?, config = ?, endpoint = COALESCE(?, endpoint), updated_at = ? WHERE name = ?',
          [input.model, input.alias, config, input.endpoint ?? null, time, input.name],
        );
        // What the servers said was about the old target: they report the new one on their next poll.
        if (retarget) await tx.query('DELETE FROM deployment_endpoints WHERE deployment = ?', [input.name]);
      }
      // A row left by a deployment of the same name that was removed is not this one's.
      if (!before) await tx.query('DELETE FROM deployment_endpoints WHERE deployment = ?', [input.name]);
      const after = {
        model: input.model,
        alias: input.alias,
        config: input.config ?? null,
      };
      await audit(
        tx,
        time,
        actor,
        before ? 'deployment.update' : 'deployment.create',
        `deployment:${input.name}`,
        before
          ? {
              model: before.model,
              alias: before.alias,
              config: before.config ? JSON.parse(String(before.config)) : null,
            }
          : null,
        after,
      );
      const [row] = await tx.query('SELECT * FROM deployments WHERE name = ?', [input.name]);
      return { row: row!, created: !before };
    });
    return { deployment: await this.withEndpoints(row), created };
  }

  /**
   * One server's report (its heartbeat): the live version, or why the aliased one failed, or that
   * it stopped (`offline`). Each server is its own row, keyed by its endpoint.
   */
  async report(
    actor: string,
    name: string,
    report: {
      status: DeploymentStatus;
      liveVersion: number | null;
      message?: string;
      endpoint?: string | null;
    },
  ): Promise<Deployment | undefined> {
    const time = new Date().toISOString();
    const endpoint = report.endpoint ?? '';
    const row = await this.store.transaction(async (tx) => {
      const [deployment] = await tx.query('SELECT * FROM deployments WHERE name = ?', [name]);
      if (!deployment) return undefined;
      const [before] = await tx.query(
        'SELECT * FROM deployment_endpoints WHERE deployment = ? AND endpoint = ?',
        [name, endpoint],
      );
      const previous = before ? toEndpoint(before, Date.now(), this.expiryMs) : undefined;
      const changed =
        previous?.status !== report.status ||
        previous.liveVersion !== report.liveVersion ||
        (before && String(before.message ?? '') !== (report.message ?? ''));
      if (before)
        await tx.query(
          'UPDATE deployment_endpoints SET status = ?, live_version = ?, message = ?, reported_at = ? WHERE deployment = ? AND endpoint = ?',
          [report.status, report.liveVersion, report.message ?? '', time, name, endpoint],
        );
      else
        await tx.query(
          'INSERT INTO deployment_endpoints (deployment, endpoint, status, live_version, message, reported_at) VALUES (?, ?, ?, ?, ?, ?)',
          [name, endpoint, report.status, report.liveVersion, report.message ?? '', time],
        );
      // Only changes are audited: a heartbeat repeating the same state is not news (a server
      // coming back after it expired is).
      if (changed)
        await audit(
          tx,
          time,
          actor,
          'deployment.report',
          `deployment:${name}`,
          previous
            ? { endpoint: previous.endpoint, status: previous.status, liveVersion: previous.liveVersion }
            : null,
          {
            endpoint: report.endpoint ?? null,
            status: report.status,
            liveVersion: report.liveVersion,
            message: report.message ?? '',
          },
        );
      return deployment;
    });
    return row ? this.withEndpoints(row) : undefined;
  }

  async get(name: string): Promise<Deployment | undefined> {
    const [row] = await this.store.query('SELECT * FROM deployments WHERE name = ?', [name]);
    return row ? this.withEndpoints(row) : undefined;
  }

  async list(model?: string): Promise<Deployment[]> {
    const rows =
      model === undefined
        ? await this.store.query('SELECT * FROM deployments ORDER BY name')
        : await this.store.query('SELECT * FROM deployments WHERE model = ? ORDER BY name', [model]);
    // One query for every listed deployment's endpoints, not one per deployment.
    const endpoints =
      model === undefined
        ? await this.store.query('SELECT * FROM deployment_endpoints ORDER BY deployment, endpoint')
        : await this.store.query(
            'SELECT e.* FROM deployment_endpoints e JOIN deployments d ON d.name = e.deployment WHERE d.model = ? ORDER BY e.deployment, e.endpoint',
            [model],
          );
    const now = Date.now();
    const byName = new Map<string, DeploymentEndpoint[]>();
    for (const e of endpoints) {
      const list = byName.get(String(e.deployment)) ?? [];
      list.push(toEndpoint(e, now, this.expiryMs));
      byName.set(String(e.deployment), list);
    }
    return rows.map((r) => toDeployment(r, byName.get(String(r.name)) ?? []));
  }

  async delete(actor: string, name: string): Promise<boolean> {
    const time = new Date().toISOString();
    const before = await this.get(name);
    if (!before) return false;
    return this.store.transaction(async (tx) => {
      const [row] = await tx.query('SELECT name FROM deployments WHERE name = ?', [name]);
      if (!row) return false;
      await tx.query('DELETE FROM deployment_endpoints WHERE deployment = ?', [name]);
      await tx.query('DELETE FROM deployments WHERE name = ?', [name]);
      await audit(tx, time, actor, 'deployment.delete', `deployment:${name}`, before, null);
      return true;
    });
  }

  private async withEndpoints(row: Row): Promise<Deployment> {
    const rows = await this.store.query(
      'SELECT * FROM deployment_endpoints WHERE deployment = ? ORDER BY endpoint',
      [String(row.name)],
    );
    const now = Date.now();
    return toDeployment(
      row,
      rows.map((e) => toEndpoint(e, now, this.expiryMs)),
    );
  }
}
