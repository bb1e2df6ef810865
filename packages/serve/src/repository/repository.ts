import type { Logger } from 'pino';
import { type ServeError, serveError } from '../errors.js';
import type { ServeMetrics } from '../metrics.js';
import type { ModelPlan, ModelSource } from './layout.js';
import { loadVersion, type ServedVersion } from './served-version.js';

export type ModelControlMode = 'none' | 'poll' | 'explicit';

interface ModelEntry {
  /** Versions serving now, by number. A failed reload leaves this untouched. */
  versions: Map<number, ServedVersion>;
  state: 'LOADING' | 'READY' | 'UNAVAILABLE';
  reason: string;
  configFingerprint: string;
  /** Serialises loads of one model so two reloads never race. */
  busy: Promise<unknown>;
  /** The plan that failed last (its version fingerprints): polling does not retry it until it changes. */
  failedKey?: string;
}

/** What a deployment watcher hears: a model's versions changed, or loading new ones failed. */
export interface RepositoryEvent {
  readonly model: string;
  readonly kind: 'ready' | 'failed';
  /** The versions serving after the event (the old ones when a load failed). */
  readonly versions: readonly number[];
  /** The versions the failed plan asked for, and why they failed. */
  readonly attempted?: readonly number[];
  readonly error?: Error;
}

const planKey = (plan: ModelPlan) =>
  `${plan.configFingerprint}|${plan.versions.map((v) => `${v.version}:${v.fingerprint}`).join(',')}`;

export interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: string;
  readonly reason: string;
}

/**
 * The models being served and how they change: control mode none (load everything once), poll
 * (rescan the source every interval: new models load, changed ones reload, removed ones unload)
 * or explicit (only what load()/unload() say, e.g. through the repository extension routes).
 * A reload builds and warms the new versions completely before swapping them in, so a failed
 * reload keeps the old versions serving.
 */
export class ModelRepository {
  private readonly models = new Map<string, ModelEntry>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly source: ModelSource,
    readonly mode: ModelControlMode,
    private readonly metrics: ServeMetrics,
    private readonly log: Logger,
    private readonly onEvent?: (event: RepositoryEvent) => void,
  ) {}

  /** Loads the startup set: everything (none, poll) or the named models (explicit; '*' = all). Throws on the first failure. */
  async start(explicitModels: readonly string[] = [], options: { tolerant?: boolean } = {}): Promise<void> {
    const names =
      this.mode === 'explicit' && !explicitModels.includes('*') ? explicitModels : await this.listed();
    // tolerant (deployments): one model that fails is reported and retried by polling, not fatal
    for (const name of names)
      await (options.tolerant ? this.load(name).catch(() => undefined) : this.load(name));
  }

  private readonly loggedSkips = new Set<string>();

  /** The source's model names; entry points it skips are logged once each with their reason. */
  private async listed(): Promise<string[]> {
    const names = await this.source.list();
    for (const { name, reason } of this.source.skipped?.() ?? []) {
      const key = `${name}\0${reason}`;
      if (this.loggedSkips.has(key)) continue;
      this.loggedSkips.add(key);
      this.log.warn({ model: name }, `skipped ${name}: ${reason}`);
    }
    return names;
  }

  startPolling(intervalMs: number): void {
    if (this.mode !== 'poll') return;
    const tick = () => {
      this.polling = this.poll()
        .catch((error) => this.log.error({ err: error }, 'repository poll failed'))
        .finally(() => {
          if (this.pollTimer) this.pollTimer = setTimeout(tick, intervalMs);
        });
    };
    this.pollTimer = setTimeout(tick, intervalMs);
  }

  /** One rescan (what polling does each interval); exported for tests and `poll` mode. */
  async poll(): Promise<void> {
    const present = new Set(await this.listed());
    for (const name of present) {
      const entry = this.models.get(name);
      if (!entry) {
        await this.load(name).catch(() => undefined);
        continue;
      }
      let plan: ModelPlan;
      try {
        plan = await this.source.describe(name);
      } catch (error) {
        this.noteFailure(name, entry, error);
        continue;
      }
      const changed =
        plan.configFingerprint !== entry.configFingerprint ||
        plan.versions.length !== entry.versions.size ||
        plan.versions.some((v) => entry.versions.get(v.version)?.fingerprint !== v.fingerprint);
      if (!changed && entry.failedKey !== undefined) {
        // the source went back to what is serving (e.g. an alias moved back): that failure is over
        entry.failedKey = undefined;
        entry.reason = '';
        this.emit(name, entry, 'ready');
      }
      // a plan that already failed is not retried every poll; a new one (or a fixed file) is
      if (changed && planKey(plan) !== entry.failedKey) await this.load(name, plan).catch(() => undefined);
    }
    for (const name of [...this.models.keys()]) if (!present.has(name)) await this.unload(name);
  }

  /**
   * Loads or reloads one model; on failure the versions already serving keep serving and this
   * rejects. `plan` is the source's description when the caller has just read it (polling).
   */
  load(name: string, plan?: ModelPlan): Promise<void> {
    const entry = this.models.get(name) ?? {
      versions: new Map(),
      state: 'LOADING',
      reason: '',
      configFingerprint: '',
      busy: Promise.resolve(),
    };
    this.models.set(name, entry);
    const task = entry.busy.then(() => this.loadNow(name, entry, plan));
    entry.busy = task.catch(() => undefined);
    return task;
  }

  private async loadNow(name: string, entry: ModelEntry, given?: ModelPlan): Promise<void> {
    // two polls (the timer and a registry event) can queue the same plan: a failure counts once
    if (given && planKey(given) === entry.failedKey) return;
    if (entry.versions.size === 0) entry.state = 'LOADING';
    const built: ServedVersion[] = [];
    let plan: ModelPlan | undefined = given;
    try {
      plan ??= await this.source.describe(name);
      const configChanged = plan.configFingerprint !== entry.configFingerprint;
      const next = new Map<number, ServedVersion>();
      for (const v of plan.versions) {
        const current = entry.versions.get(v.version);
        if (current && !configChanged && current.fingerprint === v.fingerprint) {
          next.set(v.version, current);
          continue;
        }
        const served = await loadVersion({
          model: name,
          version: v.version,
          path: v.path,
          configPath: plan.configPath,
          config: plan.config,
          backend: v.backend,
          metrics: this.metrics,
          fingerprint: v.fingerprint,
          ...(v.entry !== undefined && { entry: v.entry }),
          ...(plan.cacheDir !== undefined && { cacheDir: plan.cacheDir }),
        });
        built.push(served);
        next.set(v.version, served);
        this.log.info(
          {
            model: name,
            version: v.version,
            placement: served.placement,
            ...(served.probeUs !== undefined && { probeUs: Math.round(served.probeUs) }),
          },
          'instances placed',
        );
        // A load-time run that could not happen or failed is not a load error (issue #18).
        for (const note of served.loadNotes) this.log.warn({ model: name, version: v.version }, note);
      }
      const retired = [...entry.versions.entries()].filter(([v, s]) => next.get(v) !== s).map(([, s]) => s);
      entry.versions = next;
      entry.configFingerprint = plan.configFingerprint;
      entry.state = 'READY';
      entry.reason = '';
      entry.failedKey = undefined;
      this.log.info({ model: name, versions: [...next.keys()] }, 'model ready');
      this.emit(name, entry, 'ready');
      // old versions finish what they queued, then release their sessions
      for (const old of retired) void old.close();
    } catch (error) {
      await Promise.allSettled(built.map((s) => s.close()));
      if (plan) entry.failedKey = planKey(plan);
      this.noteFailure(
        name,
        entry,
        error,
        plan?.versions.map((v) => v.version),
      );
      throw error;
    }
  }

  private noteFailure(name: string, entry: ModelEntry, error: unknown, attempted?: readonly number[]): void {
    entry.reason = (error as Error).message;
    if (entry.versions.size === 0) entry.state = 'UNAVAILABLE';
    this.metrics.loadFailed(name);
    this.emit(name, entry, 'failed', error as Error, attempted);
    this.log.error(
      { model: name, code: (error as ServeError).code, err: (error as Error).message },
      entry.versions.size > 0 ? 'reload failed; the previous version keeps serving' : 'load failed',
    );
  }

  private emit(
    model: string,
    entry: ModelEntry,
    kind: 'ready' | 'failed',
    error?: Error,
    attempted?: readonly number[],
  ): void {
    if (!this.onEvent) return;
    const versions = [...entry.versions.keys()].sort((a, b) => a - b);
    try {
      this.onEvent({ model, kind, versions, ...(attempted && { attempted }), ...(error && { error }) });
    } catch (listenerError) {
      this.log.error({ model, err: (listenerError as Error).message }, 'repository listener failed');
    }
  }

  async unload(name: string): Promise<void> {
    const entry = this.models.get(name);
    if (!entry) throw serveError('FERRY_SERVE_MODEL_NOT_FOUND', { model: name });
    await entry.busy;
    const versions = [...entry.versions.values()];
    entry.versions = new Map();
    entry.state = 'UNAVAILABLE';
    entry.reason = 'unloaded';
    this.models.delete(name);
    this.log.info({ model: name }, 'model unloaded');
    await Promise.all(versions.map((v) => v.close()));
  }

  /** The version a request names, or the newest one serving. */
  resolve(name: string, version?: string): ServedVersion {
    const entry = this.models.get(name);
    if (!entry) throw serveError('FERRY_SERVE_MODEL_NOT_FOUND', { model: name });
    if (entry.versions.size === 0)
      throw serveError('FERRY_SERVE_NOT_READY', {
        model: name,
        version: version || 'latest',
        reason: entry.reason || entry.state.toLowerCase(),
      });
    if (version === undefined || version === '')
      return entry.versions.get(Math.max(...entry.versions.keys()))!;
    const served = /^[0-9]{1,16}$/.test(version) ? entry.versions.get(Number(version)) : undefined;
    if (!served)
      throw serveError('FERRY_SERVE_VERSION_NOT_FOUND', {
        model: name,
        version,
        reason: `serving ${[...entry.versions.keys()].join(', ')}`,
      });
    return served;
  }

  /** Versions a client may name for a model (model metadata's `versions`). */
  versionsOf(name: string): string[] {
    return [...(this.models.get(name)?.versions.keys() ?? [])].sort((a, b) => a - b).map(String);
  }

  /** Every model known, with each serving version (the repository extension's index). */
  async index(): Promise<IndexEntry[]> {
    const out: IndexEntry[] = [];
    const names = new Set([...this.models.keys(), ...(await this.listed().catch(() => []))]);
    const skipped = new Map((this.source.skipped?.() ?? []).map((s) => [s.name, s.reason]));
    for (const name of [...names, ...skipped.keys()].sort()) {
      const reason = skipped.get(name);
      if (reason !== undefined && !names.has(name)) {
        out.push({ name, state: 'UNAVAILABLE', reason: `skipped: ${reason}` });
        continue;
      }
      const entry = this.models.get(name);
      if (!entry || entry.versions.size === 0) {
        out.push({ name, state: entry?.state ?? 'UNAVAILABLE', reason: entry?.reason ?? 'not loaded' });
        continue;
      }
      for (const version of this.versionsOf(name)) {
        const notes = entry.versions.get(Number(version))?.loadNotes ?? [];
        out.push({ name, version, state: 'READY', reason: entry.reason || notes.join('; ') });
      }
    }
    return out;
  }

  /** True when every model asked for is serving. */
  allReady(): boolean {
    for (const entry of this.models.values()) if (entry.versions.size === 0) return false;
    return true;
  }

  all(): ServedVersion[] {
    return [...this.models.values()].flatMap((e) => [...e.versions.values()]);
  }

  /** Stops polling, drains every version's queue and releases the sessions. */
  async close(): Promise<void> {
    const timer = this.pollTimer;
    this.pollTimer = undefined;
    clearTimeout(timer);
    await this.polling;
    await Promise.all([...this.models.values()].map((e) => e.busy));
    await Promise.all(this.all().map((v) => v.close()));
  }

  /** Drains without closing: in-flight requests finish; new ones are refused by the batchers. */
  async drain(): Promise<void> {
    await Promise.all(this.all().map((v) => v.batcher.drain()));
  }
}
