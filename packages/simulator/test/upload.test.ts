import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUTH, call, jpegHead, KEY, png, start, status, upload } from './_helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('POST /v1/resources/upload', () => {
  it('stores a png and serves it at data.fullPath', async () => {
    const sim = await start();
    const bytes = png(32, 18);
    const r = await upload(sim, bytes);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 0, data: { fullPath: `${sim.url}/files/${sha(bytes)}.png` } });
    const file = await fetch(r.body.data.fullPath);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('recognises jpg by its bytes, not its name', async () => {
    const sim = await start();
    const r = await upload(sim, jpegHead(64, 48), 'looks-like.png');
    expect(r.body.code).toBe(0);
    expect(r.body.data.fullPath).toMatch(/\.jpg$/);
    expect(sim.ledger().uploads[sha(jpegHead(64, 48))]).toMatchObject({ type: 'jpg', width: 64, height: 48 });
  });

  it('refuses anything but png or jpg', async () => {
    const sim = await start();
    const r = await upload(sim, Buffer.from('GIF89a not an image'), 'x.gif');
    expect(r.status).toBe(200);
    expect(r.body.code).not.toBe(0);
    expect(r.body.message).toMatch(/expected a png or jpg/);
  });

  it('refuses files over maxImageBytes with 413', async () => {
    const sim = await start({ limits: { maxImageBytes: 200 } });
    const r = await upload(sim, png(200, 200, 3));
    expect(png(200, 200, 3).length).toBeGreaterThan(200);
    expect(r.status).toBe(413);
    expect(r.body.message).toMatch(/file too large: the limit is 200 bytes/);
    expect(Object.keys(sim.ledger().uploads)).toEqual([]);
  });

  it('needs the multipart field "file"', async () => {
    const sim = await start();
    const form = new FormData();
    form.append('image', new Blob([png(4, 4)]), 'a.png');
    const r = await call(`${sim.url}/v1/resources/upload`, { method: 'POST', headers: AUTH, body: form });
    expect(r.body.code).not.toBe(0);
    expect(r.body.message).toMatch(/multipart field "file"/);
    const notMultipart = await call(`${sim.url}/v1/resources/upload`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(notMultipart.status).toBe(400);
    expect(notMultipart.body.message).toMatch(/multipart/);
  });

  it('counts uploads per content hash', async () => {
    const sim = await start();
    const a = png(8, 8, 1);
    await upload(sim, a);
    await upload(sim, a);
    await upload(sim, png(8, 8, 2));
    const uploads = sim.ledger().uploads;
    expect(uploads[sha(a)]).toEqual({ count: 2, bytes: a.length, type: 'png', width: 8, height: 8 });
    expect(Object.keys(uploads)).toHaveLength(2);
  });
});

describe('auth', () => {
  it('needs a Bearer key starting with sk- by default', async () => {
    const sim = await start();
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Basic abc' },
      { authorization: 'Bearer pk-nope' },
    ]) {
      const r = await upload(sim, png(4, 4), 'a.png', headers);
      expect(r.status).toBe(401);
      expect(r.body.code).not.toBe(0);
    }
    expect((await status(sim, 'x', { authorization: 'Bearer sk-anything' })).status).toBe(200);
  });

  it('accepts only the configured key, and never repeats a key back', async () => {
    const sim = await start({ key: KEY });
    const wrong = 'sk-wrong-key-ABCDEF';
    const r = await status(sim, 'x', { authorization: `Bearer ${wrong}` });
    expect(r.status).toBe(401);
    expect(r.text).not.toContain(wrong);
    expect((await status(sim, 'x')).status).toBe(200);
    const ledger = JSON.stringify(sim.ledger());
    expect(ledger).not.toContain(KEY);
    expect(ledger).not.toContain(wrong);
  });
});
