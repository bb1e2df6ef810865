import { describe, expect, it } from 'vitest';
import { explainListenError, PortUnavailableError } from './port-flags.js';

const FLAGS = [
  { flag: 'serve-port', port: 8000 },
  { flag: 'grpc-port', port: 8001 },
];

describe('explainListenError', () => {
  it("names the flag of Node's EADDRINUSE port", () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8000'), {
      code: 'EADDRINUSE',
      port: 8000,
    });
    const explained = explainListenError(error, '127.0.0.1', FLAGS);
    expect(explained).toBeInstanceOf(PortUnavailableError);
    expect((explained as Error).message).toBe(
      'port 8000 on 127.0.0.1 is already in use: choose another with --serve-port PORT (0 = any free port)',
    );
  });

  it("reads grpc-js's message, which carries neither code nor port", () => {
    const error = new Error(
      'No address added out of total 1 resolved errors: [listen EADDRINUSE: address already in use 127.0.0.1:8001]',
    );
    expect((explainListenError(error, '127.0.0.1', FLAGS) as Error).message).toBe(
      'port 8001 on 127.0.0.1 is already in use: choose another with --grpc-port PORT (0 = any free port)',
    );
  });

  it('says a privileged port needs root (EACCES)', () => {
    const error = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), {
      code: 'EACCES',
      port: 80,
    });
    expect((explainListenError(error, '0.0.0.0', [{ flag: 'port', port: 80 }]) as Error).message).toBe(
      'port 80 on 0.0.0.0 is not allowed (ports below 1024 need root): choose another with --port PORT (0 = any free port)',
    );
  });

  it('passes any other error through unchanged', () => {
    const error = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' });
    expect(explainListenError(error, 'nowhere', FLAGS)).toBe(error);
  });
});
