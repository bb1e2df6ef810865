import { registryError } from '../errors.js';
import type { ModelVersion } from '../store/types.js';

/**
 * Refuses a download of a version the scan did not show safe, unless forced: `unsafe` (something
 * runs code on load) and `error`/`unknown`/`invalid` alike (fail closed: a file nobody read whole
 * is not known to be harmless, and one that breaks its format may be read differently by a loader).
 */
export function checkScanGate(name: string, version: ModelVersion, force: boolean): void {
  if (version.scan === 'safe' || force) return;
  if (version.scan === 'unsafe')
    throw registryError('FERRY_REGISTRY_UNSAFE', {
      name,
      version: version.version,
      reason: version.scanDetail ?? 'unsafe',
    });
  throw registryError('FERRY_REGISTRY_UNVERIFIED', {
    name,
    version: version.version,
    verdict: version.scan,
    reason: version.scanDetail ?? 'no file was judged',
  });
}
