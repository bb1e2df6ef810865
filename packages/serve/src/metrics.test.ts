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
