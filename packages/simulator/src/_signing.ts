import { createHmac, timingSafeEqual } from 'node:crypto';

/** Signs result video URLs so they can expire: `sig` is an HMAC of the path and `expires` (epoch ms). */
export class UrlSigner {
  constructor(private readonly secret: string) {}

  sign(path: string, expiresAt: number): string {
    return createHmac('sha256', this.secret).update(`${path}\n${expiresAt}`).digest('hex').slice(0, 32);
  }

  verify(path: string, expiresAt: number, sig: string): boolean {
    const want = Buffer.from(this.sign(path, expiresAt));
    const got = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}
