import { describe, expect, it } from 'vitest';
import { body, png, start, submit, upload } from './_helpers.js';

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}\+08:00\[Asia\/Shanghai\]$/;

describe('POST /v1/videos/generations', () => {
  it('accepts a valid body with a taskId and the provider ts', async () => {
    const sim = await start();
    const r = await submit(
      sim,
      body({ negative_prompt: 'blurry', number_of_videos: 4 }, { need_expand_prompt: true, async: true }),
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      code: 0,
      message: '任务提交成功',
      data: { taskId: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    expect(r.body.ts).toMatch(TS);
    expect(sim.ledger().submissions.accepted).toEqual([
      {
        taskId: r.body.data.taskId,
        bodyHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        at: expect.any(Number),
        key: expect.stringMatching(/^key-[0-9a-f]{8}$/),
      },
    ]);
  });

  it('writes ts in Shanghai time', async () => {
    const sim = await start({ clock: () => Date.UTC(2026, 1, 2, 2, 44, 54, 716) });
    const r = await submit(sim, body());
    expect(r.body.ts).toMatch(/^2026-02-02T10:44:54\.716\d{6}\+08:00\[Asia\/Shanghai\]$/);
  });

  const violations: [string, unknown, RegExp][] = [
    [
      'selected_model missing',
      body({}, { selected_model: undefined }),
      /selected_model: expected a model name/,
    ],
    ['selected_model empty', body({}, { selected_model: '  ' }), /selected_model/],
    ['task_type', body({}, { task_type: 'txt2video' }), /task_type: expected "flf2video", got "txt2video"/],
    ['input missing', { selected_model: 'm', task_type: 'flf2video' }, /input: expected an object/],
    ['image not a URL', body({ image: '/tmp/a.png' }), /input\.image: expected an http\(s\) URL/],
    ['last_image ftp', body({ last_image: 'ftp://x/a.png' }), /input\.last_image: expected an http\(s\) URL/],
    ['prompt missing', body({ prompt: undefined }), /input\.prompt: expected a non-empty prompt/],
    ['prompt blank', body({ prompt: '   ' }), /input\.prompt/],
    [
      'prompt too long',
      body({ prompt: '字'.repeat(2001) }),
      /input\.prompt: expected at most 2000 characters, got "2001 characters"/,
    ],
    ['negative_prompt type', body({ negative_prompt: 3 }), /input\.negative_prompt: expected a string/],
    ['resolution', body({ resolution: '4k' }), /input\.resolution: expected "720p" or "1080p", got "4k"/],
    ['duration 7', body({ duration: 7 }), /input\.duration: expected 5, 6 or 8, got 7/],
    ['duration as text', body({ duration: '5' }), /input\.duration: expected 5, 6 or 8, got "5"/],
    [
      'number_of_videos 0',
      body({ number_of_videos: 0 }),
      /input\.number_of_videos: expected a whole number from 1 to 4, got 0/,
    ],
    ['number_of_videos 5', body({ number_of_videos: 5 }), /input\.number_of_videos/],
    ['number_of_videos 1.5', body({ number_of_videos: 1.5 }), /input\.number_of_videos/],
    [
      'need_expand_prompt',
      body({}, { need_expand_prompt: 'yes' }),
      /need_expand_prompt: expected true or false/,
    ],
    ['async false', body({}, { async: false }), /async: expected true/],
    ['not an object', [1, 2], /body: expected a JSON object/],
  ];
  it.each(violations)('rejects %s with code != 0 and a message', async (_name, b, message) => {
    const sim = await start();
    const r = await submit(sim, b);
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(40001);
    expect(r.body.message).toMatch(message);
    expect(sim.ledger().submissions.rejected).toEqual({ validation: 1 });
    expect(sim.ledger().tasks.total).toBe(0);
  });

  it('lists every violation in one message', async () => {
    const sim = await start();
    const r = await submit(sim, body({ duration: 7, resolution: '480p' }));
    expect(r.body.message).toMatch(/input\.resolution.*; input\.duration/);
  });

  it('answers HTTP 400 instead when validationErrors is http-400', async () => {
    const sim = await start({ responses: { validationErrors: 'http-400' } });
    const r = await submit(sim, body({ duration: 7 }));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 40001, message: expect.stringMatching(/duration/) });
  });

  it('honours a configured prompt limit', async () => {
    const sim = await start({ limits: { promptMaxChars: 10, negativePromptMaxChars: 3 } });
    expect((await submit(sim, body({ prompt: 'x'.repeat(11) }))).body.message).toMatch(/at most 10/);
    expect(
      (await submit(sim, body({ prompt: 'x'.repeat(10), negative_prompt: 'abcd' }))).body.message,
    ).toMatch(/negative_prompt: expected at most 3/);
    expect((await submit(sim, body({ prompt: 'x'.repeat(10) }))).body.code).toBe(0);
  });

  it('rejects a body that is not JSON, or too large', async () => {
    const sim = await start({ limits: { maxBodyBytes: 2000 } });
    const bad = await submit(sim, '{"selected_model": ');
    expect(bad.body).toMatchObject({ code: 40000, message: expect.stringMatching(/not valid JSON/) });
    const big = await submit(sim, body({ prompt: 'x'.repeat(3000) }));
    expect(big.status).toBe(413);
    expect(sim.ledger().submissions.rejected).toEqual({ 'invalid-json': 1, 'body-too-large': 1 });
  });

  it('answers moderation with HTTP 400 and the provider message, verbatim', async () => {
    const sim = await start({ moderationPattern: 'forbidden' });
    const r = await submit(sim, body({ prompt: 'something FORBIDDEN here' }));
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      message: 'The content contains inappropriate information and does not pass the review.',
    });
    expect(sim.ledger().submissions.rejected).toEqual({ moderation: 1 });
    // The default marker.
    const sim2 = await start();
    expect((await submit(sim2, body({ prompt: 'a cat [sim:moderation]' }))).status).toBe(400);
  });

  it('hashes the canonical body: key order does not matter', async () => {
    const sim = await start();
    await submit(
      sim,
      '{"task_type":"flf2video","selected_model":"m","input":{"prompt":"p","image":"http://a/1.png","last_image":"http://a/2.png","resolution":"720p","duration":5}}',
    );
    await submit(
      sim,
      '{"selected_model":"m","input":{"duration":5,"resolution":"720p","last_image":"http://a/2.png","image":"http://a/1.png","prompt":"p"},"task_type":"flf2video"}',
    );
    await submit(sim, body());
    const [a, b, c] = sim.ledger().submissions.accepted;
    expect(a!.bodyHash).toBe(b!.bodyHash);
    expect(c!.bodyHash).not.toBe(a!.bodyHash);
    expect(a!.taskId).not.toBe(b!.taskId);
  });
});

describe('frames uploaded here', () => {
  it('must exist', async () => {
    const sim = await start();
    const r = await submit(sim, body({ image: `${sim.url}/files/${'0'.repeat(64)}.png` }));
    expect(r.body).toMatchObject({
      code: 40001,
      message: expect.stringMatching(/input\.image: no uploaded file/),
    });
  });

  it('pass with similar aspect ratios, whatever host name is used', async () => {
    const sim = await start();
    const a = (await upload(sim, png(320, 180, 1))).body.data.fullPath as string;
    const b = (await upload(sim, png(300, 180, 2))).body.data.fullPath as string;
    const r = await submit(sim, body({ image: a, last_image: b.replace('127.0.0.1', 'localhost') }));
    expect(r.body.code).toBe(0);
  });

  it('fail when the ratio of ratios is outside 0.8–1.25', async () => {
    const sim = await start();
    const landscape = (await upload(sim, png(320, 180, 1))).body.data.fullPath as string;
    const portrait = (await upload(sim, png(180, 320, 2))).body.data.fullPath as string;
    const r = await submit(sim, body({ image: landscape, last_image: portrait }));
    expect(r.body.code).toBe(40001);
    expect(r.body.message).toMatch(
      /input\.last_image: expected an aspect ratio similar to the first frame's.*got 180x320 after 320x180/,
    );
  });

  it('fail when a frame is beyond 1:4–4:1, unless the check is off', async () => {
    const sim = await start({ limits: { framePairRatioRange: null } });
    const wide = (await upload(sim, png(500, 100, 1))).body.data.fullPath as string;
    const ok = (await upload(sim, png(400, 100, 2))).body.data.fullPath as string;
    const r = await submit(sim, body({ image: wide, last_image: ok }));
    expect(r.body.message).toMatch(
      /input\.image: expected an aspect ratio \(width\/height\) from 0\.25 to 4, got 500x100/,
    );
    expect(r.body.message).not.toMatch(/last_image/);
    sim.update({ limits: { frameAspectRange: null } });
    expect((await submit(sim, body({ image: wide, last_image: ok }))).body.code).toBe(0);
  });
});
