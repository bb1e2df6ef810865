import type { DeploymentEndpoint } from '@ferry/registry-client';
import { describe, expect, it } from 'vitest';
import { summarizeEndpoints } from './deployment-state.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const endpoint = (
  e: Partial<DeploymentEndpoint> & Pick<DeploymentEndpoint, 'status'>,
): DeploymentEndpoint => ({
  endpoint: 'http://a:8000',
  liveVersion: null,
  message: '',
  reportedAt: at(0),
  ...e,
});

describe('summarizeEndpoints', () => {
  it('no report yet: pending', () => {
    expect(summarizeEndpoints([])).toEqual({
      status: 'pending',
      endpoint: null,
      liveVersion: null,
      message: '',
      reportedAt: null,
    });
  });

  it('one server serving and one failed: serving, named by the first serving, the failure kept', () => {
    const summary = summarizeEndpoints([
      endpoint({
        endpoint: 'http://a:8000',
        status: 'failed',
        liveVersion: 1,
        message: 'boom',
        reportedAt: at(5),
      }),
      endpoint({ endpoint: 'http://b:8000', status: 'serving', liveVersion: 2, reportedAt: at(3) }),
    ]);
    expect(summary).toEqual({
      status: 'serving',
      endpoint: 'http://b:8000',
      liveVersion: 2,
      message: 'http://a:8000: boom',
      reportedAt: at(5),
    });
  });

  it('every server offline: offline, nothing live', () => {
    const summary = summarizeEndpoints([
      endpoint({ status: 'offline', message: 'no heartbeat since x (expiry 30 s)', reportedAt: at(1) }),
      endpoint({ endpoint: 'http://b:8000', status: 'offline', reportedAt: at(2) }),
    ]);
    expect(summary).toMatchObject({
      status: 'offline',
      endpoint: null,
      liveVersion: null,
      reportedAt: at(2),
    });
    expect(summary.message).toBe('none of its 2 servers is live');
    expect(summarizeEndpoints([endpoint({ status: 'offline', message: 'gone' })]).message).toBe('gone');
  });

  it('only failures: failed, with the version that keeps serving', () => {
    expect(
      summarizeEndpoints([
        endpoint({ status: 'failed', liveVersion: 3, message: 'version 4 failed to load' }),
      ]),
    ).toMatchObject({ status: 'failed', liveVersion: 3, message: 'version 4 failed to load' });
  });
});
