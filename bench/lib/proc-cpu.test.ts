import { describe, expect, it } from 'vitest';
import { processCpuMs, statCpuMs, threadCpuMs } from './proc-cpu.js';

describe('/proc CPU readings', () => {
  it('reads utime + stime after a command name holding spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const line = '42 (a (b) c) S 1 42 42 0 -1 4194304 10 0 0 0 250 50 0 0 20 0 1 0 100 0 0';
    expect(statCpuMs(line)).toBe(3000);
    expect(() => statCpuMs('garbage')).toThrow(/not a \/proc stat line/);
  });

  it('sees this process burn CPU, and the main thread carry it', () => {
    const before = processCpuMs(process.pid);
    const threadsBefore = threadCpuMs(process.pid);
    // spin until the process has used 150 ms of CPU (by its own clock: the machine may be busy)
    const start = process.cpuUsage();
    let x = 0;
    const used = () => {
      const now = process.cpuUsage();
      return (now.user + now.system - start.user - start.system) / 1000;
    };
    while (used() < 150) for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const spent = processCpuMs(process.pid) - before;
    const threads = threadCpuMs(process.pid);
    // ticks are 10 ms: 150 ms of CPU shows as at least 140, most of it on the main thread
    expect(spent).toBeGreaterThanOrEqual(140);
    expect(threads.main - threadsBefore.main).toBeGreaterThanOrEqual(100);
  });
});
