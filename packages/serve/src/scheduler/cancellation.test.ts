import { describe, expect, it } from 'vitest';
import { Cancellation } from './cancellation.js';

describe('Cancellation', () => {
  it('runs each listener once, on the first abort, and none that was removed', () => {
    const cancel = new Cancellation();
    const calls: string[] = [];
    const kept = () => calls.push('kept');
    const removed = () => calls.push('removed');
    cancel.addEventListener('abort', kept, { once: true });
    cancel.addEventListener('abort', removed);
    cancel.removeEventListener('abort', removed);
    expect(cancel.aborted).toBe(false);
    cancel.abort();
    cancel.abort();
    expect(cancel.aborted).toBe(true);
    expect(calls).toEqual(['kept']);
  });

  it('does not call a listener added after the abort (the batcher checks aborted first)', () => {
    const cancel = new Cancellation();
    cancel.abort();
    let called = false;
    cancel.addEventListener('abort', () => {
      called = true;
    });
    cancel.abort();
    expect(called).toBe(false);
  });
});
