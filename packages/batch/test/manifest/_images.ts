import sharp from 'sharp';

/**
 * Real images of every kind a frame may come in, made by the tests with sharp (and BMP by hand: libvips's
 * prebuilt build does not write it). Each is 64×36 (16:9) unless sized otherwise; the top half is red with a
 * green top-left quarter, the bottom half blue, so a test can tell what reached the provider is upright and not
 * mirrored.
 */

const RED = { r: 220, g: 20, b: 20 };
const GREEN = { r: 20, g: 200, b: 20 };
const BLUE = { r: 20, g: 20, b: 220 };

/** Raw pixels: green top-left quarter, red top-right, blue bottom half. */
function halves(width: number, height: number, channels: 3 | 4 = 3): Buffer {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = y >= height / 2 ? BLUE : x < width / 2 ? GREEN : RED;
      const i = (y * width + x) * channels;
      data[i] = c.r;
      data[i + 1] = c.g;
      data[i + 2] = c.b;
      if (channels === 4) data[i + 3] = x < width / 2 ? 255 : 128;
    }
  }
  return data;
}

/** A sharp pipeline over the two-halves picture. */
export function picture(width = 64, height = 36, alpha = false) {
  const channels = alpha ? 4 : 3;
  return sharp(halves(width, height, channels), { raw: { width, height, channels } });
}

/** The picture under gaussian noise: it compresses badly, so it is large for its size. */
export function noisy(width: number, height: number, sigma: number) {
  const noise = {
    width,
    height,
    channels: 3 as const,
    background: '#888',
    noise: { type: 'gaussian' as const, mean: 128, sigma },
  };
  return picture(width, height).composite([{ input: { create: noise }, blend: 'overlay' }]);
}

/**
 * The picture stored so that EXIF `orientation` turns it upright: the pixels are the upright picture put through
 * the inverse of what the orientation does.
 */
export async function storedWithOrientation(orientation: number, width = 64, height = 36): Promise<Buffer> {
  // What a camera writes for each orientation, as sharp operations on the upright picture.
  const inverse: Record<number, (s: sharp.Sharp) => sharp.Sharp> = {
    1: (s) => s,
    2: (s) => s.flop(),
    3: (s) => s.rotate(180),
    4: (s) => s.flip(),
    5: (s) => s.rotate(270).flop(),
    6: (s) => s.rotate(270),
    7: (s) => s.rotate(90).flop(),
    8: (s) => s.rotate(90),
  };
  const stored = await inverse[orientation]!(picture(width, height)).png().toBuffer();
  return sharp(stored).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
}

/** A 24-bit BMP (bottom-up rows, as Paint saves it) of the two-halves picture. */
export function bmp24(width = 64, height = 36): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const pixels = Buffer.alloc(rowBytes * height);
  const rgb = halves(width, height);
  for (let y = 0; y < height; y++) {
    const row = (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[row + x * 3] = rgb[i + 2]!;
      pixels[row + x * 3 + 1] = rgb[i + 1]!;
      pixels[row + x * 3 + 2] = rgb[i]!;
    }
  }
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + pixels.length, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(pixels.length, 34);
  return Buffer.concat([header, pixels]);
}

/** Every kind the issue names, keyed by file name. */
export async function everyKind(): Promise<Record<string, Buffer>> {
  return {
    'a.webp': await picture().webp({ quality: 90 }).toBuffer(),
    'b.avif': await picture().avif({ quality: 70 }).toBuffer(),
    'c.tiff': await picture().tiff({ compression: 'lzw' }).toBuffer(),
    'd.gif': await picture().gif().toBuffer(),
    'e.bmp': bmp24(),
    'f16.png': await picture().toColourspace('rgb16').png().toBuffer(),
    'g-cmyk.jpg': await picture().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(),
    'h-alpha.webp': await picture(64, 36, true).webp({ lossless: true }).toBuffer(),
  };
}

/** The mean colour of a region: a fraction of the picture's width and height (0–1). */
type Region = [x0: number, y0: number, x1: number, y1: number];

async function meanColours(bytes: Buffer, regions: Region[]) {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return regions.map(([x0, y0, x1, y1]) => {
    const sum = [0, 0, 0];
    let n = 0;
    for (let y = Math.floor(y0 * info.height); y < Math.ceil(y1 * info.height); y++) {
      for (let x = Math.floor(x0 * info.width); x < Math.ceil(x1 * info.width); x++) {
        for (let c = 0; c < 3; c++) sum[c]! += data[(y * info.width + x) * 3 + c]!;
        n++;
      }
    }
    return sum.map((v) => Math.round(v / n));
  });
}

/** Where the picture's parts are in `bytes`, and its size. */
export async function layout(bytes: Buffer) {
  const meta = await sharp(bytes).metadata();
  // Sampled away from the borders between colours, where codecs blur.
  const [topLeft, topRight, bottom] = await meanColours(bytes, [
    [0.1, 0.1, 0.4, 0.4],
    [0.6, 0.1, 0.9, 0.4],
    [0.1, 0.6, 0.9, 0.9],
  ]);
  // The channel that clearly dominates: colours shift a little through CMYK and lossy codecs.
  const name = (c: number[]) => {
    const [first, second] = [...c].sort((a, b) => b - a);
    return first! - second! < 60 ? 'other' : (['red', 'green', 'blue'] as const)[c.indexOf(first!)]!;
  };
  return {
    width: meta.width,
    height: meta.height,
    format: meta.format,
    parts: [name(topLeft!), name(topRight!), name(bottom!)].join(' '),
  };
}

/** What `layout` says of an upright, unmirrored picture. */
export const UPRIGHT = 'green red blue';
