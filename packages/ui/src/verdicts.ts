import { useEffect, useState } from 'preact/hooks';
import { api, type Model, modelPath, type Version } from './api.js';

/** Version reads in flight at once: a long list must not open hundreds of requests together. */
const MAX_PARALLEL = 4;

/**
 * The scan verdict of each listed model's latest version, keyed by model name. The registry's
 * model list carries no verdict (GET /api/v1/models), so each one is read from the version
 * (`scan` of GET .../versions/N), a few at a time, and kept while the list changes.
 */
export function useLatestVerdicts(models: readonly Model[]): ReadonlyMap<string, string> {
  const [verdicts, setVerdicts] = useState<ReadonlyMap<string, string>>(new Map());
  const wanted = models
    .filter((m) => m.latestVersion !== null)
    .map((m) => `${m.name}\u0000${m.latestVersion}`)
    .join('\n');
  useEffect(() => {
    let live = true;
    const queue = wanted === '' ? [] : wanted.split('\n').map((k) => k.split('\u0000') as [string, string]);
    const worker = async () => {
      for (let next = queue.shift(); next && live; next = queue.shift()) {
        const [name, version] = next;
        const scan = await api<Version>(`${modelPath(name)}/versions/${version}`).then(
          (v) => v.scan,
          () => 'unreadable',
        );
        if (live) setVerdicts((old) => new Map(old).set(name, scan));
      }
    };
    for (let i = 0; i < MAX_PARALLEL; i++) void worker();
    return () => {
      live = false;
    };
  }, [wanted]);
  return verdicts;
}
