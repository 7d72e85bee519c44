import { describe, expect, it } from 'vitest';
import { providerIdentity } from '../../src/run/session.js';

describe('providerIdentity: which kind of provider a run directory talks to', () => {
  it('counts the embedded simulator and anything on a loopback address as a simulator', () => {
    expect(providerIdentity('http://127.0.0.1:40123', true)).toEqual({ kind: 'simulator' });
    for (const url of [
      'http://127.0.0.1:8787',
      'http://127.1.2.3',
      'http://localhost:8787',
      'http://[::1]:8787',
    ]) {
      expect(providerIdentity(url, false)).toEqual({ kind: 'simulator', baseUrl: url });
    }
  });

  it('counts every other address as the provider, keeping its base URL', () => {
    for (const url of ['https://cloud.baicaiinfer.com', 'http://10.0.0.5:8080', 'https://gateway.example']) {
      expect(providerIdentity(url, false)).toEqual({ kind: 'provider', baseUrl: url });
    }
  });
});
