import { describe, expect, it } from 'vitest';
import { RunClock } from '../../src/run/clock.js';
import { openFileStore, replay } from '../../src/state/file-store.js';
import type { JournalRecord } from '../../src/state/records.js';
import { RunState, type SessionSpan } from '../../src/state/run-state.js';
import { CREATE, planned, tempDir } from '../state/_fixtures.js';

const T0 = Date.parse('2026-11-30T08:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

/** A clock whose wall and monotonic time the test moves; `sleep` moves only the wall (a suspended machine). */
function fakeTime(wallStart: number) {
  const t = { wall: wallStart, mono: 1_000 };
  return {
    t,
    advance(ms: number) {
      t.wall += ms;
      t.mono += ms;
    },
    sleep(ms: number) {
      t.wall += ms;
    },
    clock(spans: ReadonlyMap<number, SessionSpan>, session: number) {
      return new RunClock({ spans, session, mono: () => t.mono, wall: () => t.wall });
    },
  };
}

describe('RunClock: only session time counts', () => {
  it('a task submitted before a kill and a 15-minute pause has run only as long as sessions ran', () => {
    // Session 1 ran from 0 to 4 s (killed); session 2 starts 15 minutes later.
    const spans = new Map<number, SessionSpan>([[1, { start: iso(0), end: iso(4_000) }]]);
    const time = fakeTime(T0 + 15 * MIN);
    const clock = time.clock(spans, 2);
    // Submitted 1 s into session 1: 3 s of session time so far, not 15 minutes.
    expect(clock.activeSince(iso(1_000))).toBe(3_000);
    time.advance(2_000);
    expect(clock.activeSince(iso(1_000))).toBe(5_000);
    expect(clock.now() - clock.monoAt(iso(1_000))).toBe(5_000);
  });

  it('adds every earlier session after the instant, and leaves out the gaps between them', () => {
    const spans = new Map<number, SessionSpan>([
      [1, { start: iso(0), end: iso(10_000) }],
      [2, { start: iso(HOUR), end: iso(HOUR + 20_000) }],
      [3, { start: iso(9 * HOUR), end: iso(9 * HOUR + 5_000) }],
    ]);
    const clock = fakeTime(T0 + 24 * HOUR).clock(spans, 4);
    expect(clock.activeSince(iso(4_000))).toBe(6_000 + 20_000 + 5_000);
    expect(clock.activeSince(iso(HOUR + 15_000))).toBe(5_000 + 5_000);
    // Before every session: all of them.
    expect(clock.activeSince(iso(-HOUR))).toBe(35_000);
  });

  it('leaves out what an earlier session slept (a laptop closed overnight, then killed)', () => {
    const spans = new Map<number, SessionSpan>([
      [1, { start: iso(0), end: iso(8 * HOUR + 30_000), suspended: { [iso(8 * HOUR + 10_000)]: 8 * HOUR } }],
    ]);
    const clock = fakeTime(T0 + 9 * HOUR).clock(spans, 2);
    expect(clock.activeSince(iso(5_000))).toBe(8 * HOUR + 25_000 - 8 * HOUR);
    // Submitted after the sleep: the sleep is not in its time.
    expect(clock.activeSince(iso(8 * HOUR + 20_000))).toBe(10_000);
  });

  it('an instant in this session counts from itself; a garbled one counts nothing', () => {
    const time = fakeTime(T0);
    const clock = time.clock(new Map(), 1);
    time.advance(7_000);
    expect(clock.activeSince(iso(2_000))).toBe(5_000);
    expect(clock.activeSince('not a time')).toBe(0);
  });

  it('this session sleeping: monotonic time stands still, and checkSuspend reports the sleep once', () => {
    const time = fakeTime(T0);
    const clock = time.clock(new Map(), 1);
    time.advance(3_000);
    expect(clock.checkSuspend()).toBe(0);
    time.sleep(6 * HOUR);
    time.advance(1_000);
    expect(clock.sessionMs()).toBe(4_000);
    expect(clock.checkSuspend()).toBe(6 * HOUR);
    expect(clock.checkSuspend()).toBe(0);
    // Drift below the threshold (clock slewing) is not a sleep.
    time.sleep(1_000);
    expect(clock.checkSuspend()).toBe(0);
  });
});

describe('session spans in the run state', () => {
  const session = (n: number, at: string): JournalRecord => ({
    t: 'session',
    n,
    at,
    tool: 't',
    manifestHash: 'm',
    manifest: 'a.csv',
    pid: 1,
    host: 'h',
    limits: {},
  });

  it("heartbeats carry a session's request counts: a killed session's count as far as its last heartbeat", () => {
    const state = new RunState();
    const counts = (submit: number) => ({ upload: 1, submit, status: 2 * submit, result: 0, download: 0 });
    const records: JournalRecord[] = [
      session(1, iso(0)),
      { t: 'heartbeat', at: iso(MIN), stats: counts(3) },
      { t: 'heartbeat', at: iso(2 * MIN), stats: counts(5) },
      // killed; the next session finishes with its own stats record
      session(2, iso(HOUR)),
      { t: 'heartbeat', at: iso(HOUR + MIN), stats: counts(1) },
      { t: 'stats', session: 2, at: iso(HOUR + 2 * MIN), stats: counts(2) as never, state: 'finished' },
      // a heartbeat after its session's end record changes nothing
      { t: 'heartbeat', at: iso(HOUR + 3 * MIN), stats: counts(9) },
    ];
    for (const r of records) state.apply(r);
    for (const r of records) state.apply(r);
    expect(state.stats.submit).toBe(5 + 2);
    expect(state.stats.status).toBe(10 + 4);
  });

  it('each session spans from its record to its last record, heartbeats and sleeps included', () => {
    const state = new RunState();
    const records: JournalRecord[] = [
      session(1, iso(0)),
      { ...planned('k1'), at: iso(100) } as JournalRecord,
      { t: 'heartbeat', at: iso(MIN) },
      { t: 'heartbeat', at: iso(9 * HOUR), suspendedMs: 8 * HOUR },
      session(2, iso(10 * HOUR)),
      { t: 'intent', key: 'k1', n: 1, at: iso(10 * HOUR + 500) },
      { t: 'stats', session: 2, at: iso(10 * HOUR + 900), stats: {} as never, state: 'finished' },
    ];
    for (const r of records) state.apply(r);
    // Applying again (a journal replayed over a snapshot) changes nothing.
    for (const r of records) state.apply(r);
    expect(state.sessionSpans.get(1)).toEqual({
      start: iso(0),
      end: iso(9 * HOUR),
      suspended: { [iso(9 * HOUR)]: 8 * HOUR },
    });
    expect(state.sessionSpans.get(2)).toEqual({ start: iso(10 * HOUR), end: iso(10 * HOUR + 900) });
  });

  it('survive compaction: the snapshot keeps them and records after it extend the latest session', async () => {
    const dir = await tempDir();
    const store = await openFileStore(dir, { create: CREATE });
    store.append(session(1, iso(0)));
    store.append({ t: 'heartbeat', at: iso(MIN) });
    await store.compact();
    store.append({ t: 'heartbeat', at: iso(2 * MIN) });
    await store.close();
    const { state } = await replay(dir);
    expect(state.sessionSpans.get(1)).toEqual({ start: iso(0), end: iso(2 * MIN) });
  });
});
