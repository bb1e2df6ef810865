import type { MetadataStore, Queryable, Row } from './metadata-store.js';

import { DEPLOYMENT_STATUSES, type Deployment, type DeploymentStatus } from '@ferry/registry-client';

/** The deployment wire type and its statuses are declared in @ferry/registry-client. */
export { DEPLOYMENT_STATUSES, type Deployment, type DeploymentStatus };

const toDeployment = (r: Row): Deployment => ({
  name: String(r.name),
  model: String(r.model),
  alias: String(r.alias),
  uri: `models:/${String(r.model)}@${String(r.alias)}`,
  config: typeof r.config === 'string' ? (JSON.parse(r.config) as Record<string, unknown>) : null,
  endpoint: r.endpoint === null ? null : String(r.endpoint),
  status: String(r.status) as DeploymentStatus,
  liveVersion: r.live_version === null || r.live_version === undefined ? null : Number(r.live_version),
  message: String(r.message ?? ''),
  reportedAt: r.reported_at === null ? null : String(r.reported_at),
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

/** Deployments and their reported state. Every change is audited in its own transaction. */
export class DeploymentStore {
  constructor(private readonly store: MetadataStore) {}

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
    return this.store.transaction(async (tx) => {
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
          `UPDATE deployments SET model = ?, alias = ?, config = ?, endpoint = COALESCE(?, endpoint), updated_at = ?${retarget ? ", status = 'pending', live_version = NULL, message = ''" : ''} WHERE name = ?`,
          [input.model, input.alias, config, input.endpoint ?? null, time, input.name],
        );
      }
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
      return { deployment: toDeployment(row!), created: !before };
    });
  }

  /** What a server reports after each load: the live version, or why the aliased one failed. */
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
    return this.store.transaction(async (tx) => {
      const [before] = await tx.query('SELECT * FROM deployments WHERE name = ?', [name]);
      if (!before) return undefined;
      const changed =
        before.status !== report.status ||
        (before.live_version === null ? null : Number(before.live_version)) !== report.liveVersion ||
        String(before.message ?? '') !== (report.message ?? '');
      await tx.query(
        'UPDATE deployments SET status = ?, live_version = ?, message = ?, endpoint = COALESCE(?, endpoint), reported_at = ? WHERE name = ?',
        [report.status, report.liveVersion, report.message ?? '', report.endpoint ?? null, time, name],
      );
      // Only changes are audited: a server re-reporting the same state every poll is not news.
      if (changed)
        await audit(
          tx,
          time,
          actor,
          'deployment.report',
          `deployment:${name}`,
          {
            status: before.status,
            liveVersion: before.live_version === null ? null : Number(before.live_version),
          },
          { status: report.status, liveVersion: report.liveVersion, message: report.message ?? '' },
        );
      const [row] = await tx.query('SELECT * FROM deployments WHERE name = ?', [name]);
      return toDeployment(row!);
    });
  }

  async get(name: string): Promise<Deployment | undefined> {
    const [row] = await this.store.query('SELECT * FROM deployments WHERE name = ?', [name]);
    return row ? toDeployment(row) : undefined;
  }

  async list(model?: string): Promise<Deployment[]> {
    const rows =
      model === undefined
        ? await this.store.query('SELECT * FROM deployments ORDER BY name')
        : await this.store.query('SELECT * FROM deployments WHERE model = ? ORDER BY name', [model]);
    return rows.map(toDeployment);
  }

  async delete(actor: string, name: string): Promise<boolean> {
    const time = new Date().toISOString();
    return this.store.transaction(async (tx) => {
      const [before] = await tx.query('SELECT * FROM deployments WHERE name = ?', [name]);
      if (!before) return false;
      await tx.query('DELETE FROM deployments WHERE name = ?', [name]);
      await audit(tx, time, actor, 'deployment.delete', `deployment:${name}`, toDeployment(before), null);
      return true;
    });
  }
}
