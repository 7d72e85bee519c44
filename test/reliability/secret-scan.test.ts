import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REDACTED } from '@flf2v/core';
import { describe, expect, it } from 'vitest';
import { API_KEY, filesContaining, simulator, spawnCli, tempDir, writeCsvJob } from '../e2e/_helpers.js';
import { chaosFaults } from './_faults.js';
import { runEnv, size, testSeed } from './_support.js';

/**
 * Secret scan: after a `--verbose` run through faults — including a provider that echoes the key back in an
 * error message, on a submit and on a status query — the API key appears in no file of the run directory, in
 * no file of the upload cache, and not in stdout or stderr. The same for a wrong key that the provider refuses.
 * Also searched: the key's random part alone, which would catch a key cut or re-prefixed on its way out.
 */

const FILE = 'test/reliability/secret-scan.test.ts';
const TASKS = size(12, 60);

async function leaks(dirs: string[], outputs: string, secret: string): Promise<string[]> {
  const found: string[] = [];
  const needles = [secret, secret.slice(3)];
  for (const needle of needles) {
    for (const dir of dirs.filter((d) => existsSync(d))) found.push(...(await filesContaining(dir, needle)));
    if (outputs.includes(needle))
      found.push(`stdout/stderr contain ${needle === secret ? 'the key' : 'its random part'}`);
  }
  return found;
}

describe('secret scan', () => {
  it('a verbose run through faults writes the key nowhere', async () => {
    const seed = testSeed('secret scan', FILE);
    const echo = `invalid parameter: token ${API_KEY} is not allowed here`;
    const sim = await simulator({
      seed,
      faults: [
        { kind: 'business-error', endpoints: 'submit', code: 40001, message: echo, count: 2 },
        { kind: 'business-error', endpoints: 'status', code: 40001, message: echo, count: 2 },
        ...chaosFaults(0.2),
      ],
    });
    const dir = await tempDir('flf2v-rel-secret-');
    const manifest = await writeCsvJob(dir, TASKS, { name: 'secret' });
    const out = join(dir, 'out');
    const cache = join(dir, 'upload-cache');
    const res = await spawnCli(['run', manifest, '--out', out, '--verbose'], { env: runEnv(sim, dir) })
      .result;
    const ledger = sim.ledger();
    console.log(`[secret scan] seed ${seed}: exit ${res.code}; faults`, ledger.faults.byKind);

    expect([0, 1], `seed ${seed}\n${res.stderr.slice(-2000)}`).toContain(res.code);
    // The scan is only worth something if the verbose output and the echoes really happened.
    expect(res.stderr).toMatch(/DEBUG|debug/);
    expect(ledger.faults.byKind['business-error']).toBe(4);
    expect(await filesContaining(out, '"level":20')).not.toEqual([]); // debug lines in the log file
    expect(await filesContaining(cache, 'files/')).not.toEqual([]); // the upload cache was written

    expect(await leaks([out, cache], res.stdout + res.stderr, API_KEY), `seed ${seed}`).toEqual([]);
    // …and the echoed key did travel the output paths, redacted.
    const redacted = [
      ...(await filesContaining(out, REDACTED)),
      res.stderr.includes(REDACTED) ? 'stderr' : '',
    ];
    expect(redacted.filter(Boolean), `seed ${seed}: the echo never reached an output`).not.toEqual([]);
  });

  it('a wrong key, refused by the provider, is written nowhere either', async () => {
    const sim = await simulator({ key: API_KEY });
    const dir = await tempDir('flf2v-rel-secret-');
    const manifest = await writeCsvJob(dir, 3, { name: 'secret' });
    const out = join(dir, 'out');
    const wrong = `sk-wrong${API_KEY.slice(6).split('').reverse().join('')}`;
    const res = await spawnCli(['run', manifest, '--out', out, '--verbose'], {
      env: runEnv(sim, dir, { BAICAI_API_KEY: wrong }),
    }).result;
    expect(res.code, res.stderr).toBe(3);
    expect(res.stderr).toContain('E_AUTH');
    expect(await leaks([out, join(dir, 'upload-cache')], res.stdout + res.stderr, wrong)).toEqual([]);
  });
});
