import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Spawn the built CLI's simulator and read the base URL from its first stdout line. */
async function startCli(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['packages/batch/bin/flf2v.js', 'simulator', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`simulator exited with ${code} before printing its URL: ${stderr}`);
    }),
  ])) as [string];
  return { child, url: first, stderr: () => stderr };
}

describe('flf2v simulator', () => {
  it('prints its URL first, serves the API, and exits 0 on SIGTERM', async () => {
    const key = 'sk-e2e-secret-key-123';
    const { child, url, stderr } = await startCli(['--port', '0', '--key', key, '--seed', '5']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const ok = await fetch(`${url}/v1/comfyui/tasks/nope/status`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ code: 40004 });
    const denied = await fetch(`${url}/v1/comfyui/tasks/nope/status`, {
      headers: { authorization: 'Bearer sk-other' },
    });
    expect(denied.status).toBe(401);
    const ledger = await (await fetch(`${url}/__sim/ledger`)).json();
    expect(ledger.seed).toBe(5);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stderr()).not.toContain(key);
  });

  it('applies a --config file; flags override it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flf2v-sim-cli-'));
    try {
      const config = join(dir, 'sim.yaml');
      await writeFile(
        config,
        'seed: 11\nresponses: { statusShape: object }\nfaults:\n  - { kind: http-5xx, endpoints: result }\n',
      );
      const { child, url } = await startCli(['--config', config, '--seed', '12']);
      const headers = { authorization: 'Bearer sk-any' };
      expect((await fetch(`${url}/v1/comfyui/tasks/x/result`, { headers })).status).toBe(503);
      const ledger = await (await fetch(`${url}/__sim/ledger`)).json();
      expect(ledger.seed).toBe(12);
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      expect((await exited)[0]).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 3 with every problem of a bad --config', async () => {
    const child = spawn(
      process.execPath,
      ['packages/batch/bin/flf2v.js', 'simulator', '--config', 'no/such/sim.yaml'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(3);
    expect(stderr).toMatch(/no\/such\/sim\.yaml: \(file\): expected a readable YAML file, found ENOENT/);
  });
});
