/**
 * A small seeded generator (sfc32) so every random decision is reproducible from the seed. Each purpose gets
 * its own stream, so adding draws for one (say, jitter) does not shift another (faults).
 */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** `bytes` random bytes as lowercase hex. */
  hex(bytes: number): string;
}

export function createPrng(seed: number, stream: string): Prng {
  // Mix the seed (up to 53 bits) and the stream name into four 32-bit words.
  let h = 0x811c9dc5;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
  let a = (seed >>> 0) ^ h;
  let b = Math.floor(seed / 2 ** 32) ^ 0x9e3779b9;
  let c = h ^ 0x243f6a88;
  let d = 1;
  const u32 = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 15; i++) u32();
  return {
    next: () => u32() / 2 ** 32,
    hex(bytes: number): string {
      let out = '';
      while (out.length < bytes * 2) out += u32().toString(16).padStart(8, '0');
      return out.slice(0, bytes * 2);
    },
  };
}
