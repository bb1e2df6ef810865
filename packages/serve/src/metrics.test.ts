import { describe, expect, it } from 'vitest';
import { ServeMetrics } from './metrics.js';

// Standard Node.js dashboards (Grafana's "NodeJS Application Dashboard", prom-client's defaults)
// query these exact names: a prefix on them (ferry_process_process_...) broke every panel (#25).
const STANDARD = [
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_active_handles_total',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
];

describe('ServeMetrics names', () => {
  it('exposes the process and Node.js metrics under their standard names, none doubled', async () => {
    const metrics = new ServeMetrics();
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(STANDARD));
    expect(names.filter((n) => /process_process|^ferry_process_|nodejs_nodejs/.test(n))).toEqual([]);
    // ferry's own series keep their prefix
    expect(names).toContain('ferry_request_success_total');
  });
});

describe('ServeMetrics counts', () => {
  const seriesValue = async (metrics: ServeMetrics, name: string, version = '1') =>
    (await metrics.registry.getSingleMetric(name)!.get()).values.find(
      (v) => v.labels.model === 'm' && v.labels.version === version && v.metricName === undefined,
    )?.value;

  it('reports the queue length and successes counted on the hot path when read, and keeps counting', async () => {
    const metrics = new ServeMetrics();
    const observer = metrics.observer('m', '1');
    observer.pendingChanged(3);
    metrics.succeeded('m', '1');
    metrics.succeeded('m', '1');
    expect(await seriesValue(metrics, 'ferry_pending_requests')).toBe(3);
    expect(await seriesValue(metrics, 'ferry_request_success_total')).toBe(2);
    observer.pendingChanged(0);
    metrics.succeeded('m', '1');
    expect(await seriesValue(metrics, 'ferry_pending_requests')).toBe(0);
    expect(await seriesValue(metrics, 'ferry_request_success_total')).toBe(3);
  });

  it('drops a forgotten version from the queue gauge and keeps the successes it counted', async () => {
    const metrics = new ServeMetrics();
    metrics.observer('m', '1').pendingChanged(2);
    metrics.succeeded('m', '1');
    metrics.forget('m', '1');
    expect(await seriesValue(metrics, 'ferry_pending_requests')).toBeUndefined();
    expect(await seriesValue(metrics, 'ferry_request_success_total')).toBe(1);
  });
});
