import { describe, expect, it } from 'vitest';
import { isNonPublicAddress, WebhookTargetRefused, WebhookTargets } from './webhook-target.js';

describe('webhook targets', () => {
  it('classifies loopback, private, link-local, CGNAT, multicast and IPv4-mapped IPv6 as non-public', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '10.20.30.40',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '100.127.255.255',
      '0.0.0.0',
      '224.0.0.251',
      '255.255.255.255',
      '::',
      '::1',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '::ffff:a9fe:a9fe',
    ])
      expect(isNonPublicAddress(address), address).toBe(true);
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '172.32.0.1',
      '100.128.0.1',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
    ])
      expect(isNonPublicAddress(address), address).toBe(false);
  });

  it('allows private targets only by CIDR, address, host name or allowPrivate', async () => {
    await expect(new WebhookTargets().resolve('10.1.2.3')).rejects.toBeInstanceOf(WebhookTargetRefused);
    await expect(new WebhookTargets({ allow: ['10.0.0.0/8'] }).resolve('10.1.2.3')).resolves.toHaveLength(1);
    await expect(new WebhookTargets({ allow: ['10.0.0.0/16'] }).resolve('10.1.2.3')).rejects.toThrow(
      'refused: private address',
    );
    await expect(new WebhookTargets({ allow: ['::1'] }).resolve('[::1]')).resolves.toHaveLength(1);
    await expect(new WebhookTargets({ allowPrivate: true }).resolve('192.168.1.1')).resolves.toHaveLength(1);
    await expect(new WebhookTargets().resolve('localhost')).rejects.toBeInstanceOf(WebhookTargetRefused);
    await expect(new WebhookTargets({ allow: ['LOCALHOST'] }).resolve('localhost')).resolves.not.toHaveLength(
      0,
    );
    expect(() => new WebhookTargets({ allow: ['10.0.0.0/33'] })).toThrow(/prefix length must be 0 to 32/);
    expect(() => new WebhookTargets({ allow: ['not a host'] })).toThrow(/expected a CIDR/);
  });
});
