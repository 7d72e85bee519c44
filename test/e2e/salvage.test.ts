import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkAgainstLedger,
  cliEnv,
  readReport,
  runCli,
  simulator,
  tempDir,
  writeCsvJob,
} from './_helpers.js';

/**
 * `--salvage-state` on a finished run whose journal was damaged in the middle: every record that passes its
 * checksum is kept, after the damage too, so no task id and no download is forgotten and nothing is paid twice.
 * (Keeping only the records before the damage re-sent finished tasks and overwrote their videos.)
 */
describe('--salvage-state', () => {
  it.each(['submitted', 'planned'])(
    'keeps the records after a damaged %s line: nothing re-sent, no video replaced, nothing wrongly unknown',
    async (kind) => {
      const sim = await simulator({ timings: { pendingMs: 20, runningMs: 100 } });
      const dir = await tempDir();
      const manifest = await writeCsvJob(dir, 6);
      const out = join(dir, 'out');
      const env = cliEnv(sim);
      expect((await runCli(['run', manifest, '--out', out, '--quiet'], { env })).code).toBe(0);
      const before = await readReport(out);

      // One changed character in the first record of that kind: its checksum no longer matches. (A task whose
      // `planned` record is lost is planned again from the manifest, and its later records apply to it then.)
      const journal = join(out, 'state', 'journal.jsonl');
      const lines = (await readFile(journal, 'utf8')).split('\n');
      const at = lines.findIndex((l) => l.includes(`"t":"${kind}"`));
      expect(at).toBeGreaterThan(0);
      lines[at] = lines[at]!.replace(`"${kind}"`, `"${kind}x"`);
      await writeFile(journal, lines.join('\n'));

      const refused = await runCli(['run', manifest, '--out', out, '--quiet'], { env });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('E_JOURNAL_CORRUPT');

      const salvaged = await runCli(['run', manifest, '--out', out, '--salvage-state'], { env });
      expect(salvaged.code, salvaged.stderr).toBe(0);
      expect(salvaged.stderr).toContain(`passed over damaged line(s) ${at + 1} of the state journal`);
      const after = await readReport(out);
      expect(after.totals).toMatchObject({ tasks: 6, succeeded: 6, unknown: 0 });
      const facts = (r: typeof before) =>
        r.tasks
          .map((t) => [t.id, t.submissions, t.videos])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(facts(after)).toEqual(facts(before));
      expect(sim.ledger().submissions.accepted).toHaveLength(6);
      // The damaged journal is kept beside the new one; the directory opens without --salvage-state again.
      expect((await readdir(join(out, 'state'))).some((f) => f.startsWith('journal.jsonl.damaged-'))).toBe(
        true,
      );
      expect((await runCli(['status', out], { env })).code).toBe(0);
      await checkAgainstLedger(sim, out);
    },
  );
});
