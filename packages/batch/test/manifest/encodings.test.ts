import chardet from 'chardet';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { GUESSABLE, guessEncoding, looksLikeText } from '../../src/manifest/charset.js';
import { errors, frames, lines, load, testdir, warnings } from './_helpers.js';

const HEADER = 'id,image,last_image,prompt';

/** Prompts as people write them, per encoding a spreadsheet would save them in. */
const PROMPTS: Record<string, string[]> = {
  'windows-1252': [
    'A naïve señor walks past the Müller bakery at dusk.',
    'Crème brûlée glows under the lamps.',
    'Größere Straße im Frühling – schön.',
    'La cámara se acerca al niño en la piñata.',
    'O pão de açúcar ao anoitecer, visão aérea.',
    'Città vecchia, perché no? Caffè e più luce.',
    'Le garçon déçu regarde l’été s’éteindre.',
    'Ærø’s ferry leaves Ålesund; København waits.',
    'Noël – “quoted” €5, 20°C, ½ speed',
  ],
  gb18030: [
    '夕阳缓缓落下，天空变为蓝色。',
    '夜色降临，城市灯火通明。',
    '镜头缓缓推进，人物转身微笑。',
    'iPhone手机特写',
  ],
  big5: ['夕陽緩緩落下，天空變為藍色。', '鏡頭緩緩推進，人物轉身微笑。', '一隻貓跳上屋頂'],
  shift_jis: [
    '夕日がゆっくりと沈み、空が青く染まる。',
    '夜になり、街の明かりが灯る。',
    '桜の花びらが舞い落ちる。',
  ],
  cp949: ['해가 천천히 지고 하늘이 파랗게 변한다.', '고양이가 지붕 위로 뛰어오른다.'],
  'windows-1251': ['Солнце медленно садится, небо синеет.', 'Кошка прыгает на крышу.'],
};

function rows(prompts: string[]): string {
  return [HEADER, ...prompts.map((p, i) => `s${i},a.png,b.png,"${p}"`)].join('\r\n');
}

describe('CSVs that are not UTF-8', () => {
  it('reads each common legacy encoding right, and shows a decoded row saying it guessed', async () => {
    for (const [encoding, prompts] of Object.entries(PROMPTS)) {
      const dir = await testdir({ ...frames(), 'm.csv': iconv.encode(rows(prompts), encoding) });
      const plan = await load(dir, 'm.csv');
      expect(errors(plan), encoding).toEqual([]);
      expect(plan.tasks.map((t) => t.params.prompt)).toEqual(prompts);
      const [warning] = lines(warnings(plan));
      const name = GUESSABLE.find((g) => g.encoding === encoding)!.name;
      expect(warning).toContain(`encoding: m.csv row 2: not UTF-8: read as ${name}`);
      expect(warning).toContain(`this row reads «${prompts[0]}»`);
      expect(warning).toContain('give the encoding with --encoding');
    }
  });

  it('never guesses wrong: each sheet is read right or refused (2–12 random rows of each kind)', () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const outcomes: Record<string, { right: number; refused: number }> = {};
    for (const [encoding, prompts] of Object.entries(PROMPTS)) {
      outcomes[encoding] = { right: 0, refused: 0 };
      for (let trial = 0; trial < 60; trial++) {
        const picked = Array.from(
          { length: 1 + random(trial < 30 ? 2 : 12) },
          () => prompts[random(prompts.length)]!,
        );
        const bytes = iconv.encode(rows(picked), encoding);
        const guess = guessEncoding(
          bytes,
          (b, e) => iconv.decode(Buffer.from(b), e),
          (b) => chardet.analyse(b),
        );
        if (!guess.ok) outcomes[encoding]!.refused++;
        else {
          expect(iconv.decode(bytes, guess.encoding), `${encoding} read as ${guess.encoding}`).toBe(
            rows(picked),
          );
          outcomes[encoding]!.right++;
        }
      }
      expect(outcomes[encoding]!.right, encoding).toBeGreaterThan(outcomes[encoding]!.refused);
    }
  });

  it('never reads a sheet in another Windows code page wrong: read right or refused', () => {
    // Excel's "CSV" in Central European, Greek, Turkish, Baltic, Hebrew, Arabic Windows: none of these is guessed,
    // so each must be refused — or read right, where its bytes mean the same in a guessed one. (Left: Hungarian
    // whose only letters outside Windows-1252 are ő and ű reads as õ and û, which Portuguese and French write.)
    const OTHER: Record<string, string[]> = {
      'windows-1250': [
        'Zażółć gęślą jaźń na dworcu.',
        'Příliš žluťoučký kůň úpěl.',
        'Kôň pri vode, ťava v púšti.',
        'Árvíztűrő tükörfúrógép a folyó partján.',
        'Ház előtt áll egy fiú és egy lány.',
        'Kamera jede přes řeku, večer.',
        'Kamera się porusza powoli nad rzeką.',
        'Un băiat aleargă prin pădure.',
      ],
      'windows-1253': ['Καλημέρα κόσμε στο σταθμό.', 'Ο ήλιος δύει αργά.'],
      'windows-1254': ['Günaydın dünya, İstanbul çarşı.', 'Şehir ışıkları yanıyor.', 'Dağda kar var.'],
      'windows-1257': [
        'Saulė leidžiasi lėtai, žvaigždės šviečia.',
        'Pilsēta naktī mirdz, šodien.',
        'Kamera lēnām attālinās no jūras.',
        'Kamera lėtai tolsta nuo jūros.',
      ],
      'windows-1255': ['השמש שוקעת לאט.', 'חתול קופץ על הגג.'],
      'windows-1256': ['الشمس تغرب ببطء.', 'قطة تقفز على السطح.'],
    };
    for (const [encoding, prompts] of Object.entries(OTHER)) {
      const samples = [...prompts.map((p) => [p]), prompts];
      for (const picked of samples) {
        const bytes = iconv.encode(rows(picked), encoding);
        const guess = guessEncoding(
          bytes,
          (b, e) => iconv.decode(Buffer.from(b), e),
          (b) => chardet.analyse(b),
        );
        if (guess.ok) {
          expect(iconv.decode(bytes, guess.encoding), `${encoding} read as ${guess.encoding}`).toBe(
            rows(picked),
          );
        }
      }
    }
  });

  it('stops with the readings and --encoding when the guess is not safe; nothing is planned', async () => {
    // Two Chinese characters: as GBK, Big5, Korean or Cyrillic each reads as text, and no statistics can tell.
    const short = `${HEADER}\r\ns1,a.png,b.png,日落\r\n`;
    const dir = await testdir({ ...frames(), 'm.csv': iconv.encode(short, 'gbk') });
    const plan = await load(dir, 'm.csv');
    const [error] = lines(errors(plan));
    expect(error).toMatch(
      /^encoding: m\.csv: not UTF-8, and its encoding cannot be told safely: line 2 reads /,
    );
    expect(error).toContain('«s1,a.png,b.png,日落» as GBK (Simplified Chinese)');
    expect(error).toContain('«s1,a.png,b.png,휑쭝» as EUC-KR (Korean)');
    expect(error).toContain(
      'Nothing is guessed: give the encoding with --encoding or tasks_csv: { path, encoding }. Excel saves "CSV" in the Windows code page of its language: windows-1252 (Western European), windows-1250 (Central European)',
    );
    expect(plan.tasks).toEqual([]);
    const given = await load(dir, 'm.csv', { encoding: 'gbk' });
    expect(given.problems).toEqual([]);
    expect(given.tasks[0]!.params.prompt).toBe('日落');
  });

  it.each([
    ['windows-1250', 'Zażółć gęślą jaźń na dworcu'],
    ['windows-1253', 'Καλημέρα κόσμε στο σταθμό'],
  ])(
    'a %s sheet (not guessed among the common few) is refused with its own reading shown',
    async (encoding, prompt) => {
      const sheet = `${HEADER}\r\ns1,a.png,b.png,${prompt}\r\n`;
      const dir = await testdir({ ...frames(), 'm.csv': iconv.encode(sheet, encoding) });
      const plan = await load(dir, 'm.csv');
      const [error] = lines(errors(plan));
      // Read right by what statistics suggest (windows-1250; ISO-8859-7, Greek's other name): shown, not taken.
      expect(error).toContain(`«s1,a.png,b.png,${prompt}» as `);
      expect(error).toMatch(/ as [\w-]+ \(by statistics\)/);
      expect(plan.tasks).toEqual([]);
      const given = await load(dir, 'm.csv', { encoding });
      expect(given.problems).toEqual([]);
      expect(given.tasks[0]!.params.prompt).toBe(prompt);
    },
  );

  it('says when mojibake is all that any reading gives', () => {
    const mixed = Buffer.concat([
      Buffer.from('id,prompt\n1,'),
      Buffer.from([0x81, 0x8d, 0x8f, 0x90]),
      Buffer.from('\n'),
    ]);
    const guess = guessEncoding(
      mixed,
      (b, e) => iconv.decode(Buffer.from(b), e),
      (b) => chardet.analyse(b),
    );
    expect(guess.ok).toBe(false);
  });

  it('tells mojibake shapes from text', () => {
    for (const text of [
      'A naïve señor',
      'Größere Straße',
      '夕阳缓缓落下，天空',
      'iPhone手机',
      'Tシャツ',
      '«Élan» ¿Qué?',
      'Солнце садится',
    ]) {
      expect(looksLikeText(text), text).toBe(true);
    }
    for (const text of ['A na飗e se駉r', 'Ò»Ö»Ã¨ÌøÉÏÎÝ¶¥', 'naпve', 'Ã¨', 'x\u0085y', 'ÌøÉÏ']) {
      expect(looksLikeText(text), text).toBe(false);
    }
  });

  it('refuses a workbook or binary file saved under a .csv name', async () => {
    const dir = await testdir({
      'x.csv': Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(40)]),
      'y.csv': Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]),
      'z.csv': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]),
    });
    expect(lines(errors(await load(dir, 'x.csv')))).toEqual([
      'encoding: x.csv: expected CSV text, found an Excel workbook (.xlsx) saved under this name: in Excel, save it as "CSV UTF-8" (or "Unicode Text")',
    ]);
    expect(lines(errors(await load(dir, 'y.csv')))[0]).toContain('an Excel 97–2003 workbook (.xls)');
    expect(lines(errors(await load(dir, 'z.csv')))[0]).toContain('found binary bytes');
  });
});

describe('UTF-16 (Excel "Unicode Text")', () => {
  const text = `id\timage\tlast_image\tprompt\r\n镜头\ta.png\tb.png\t"日落, slowly"\r\n`;

  it('reads little- and big-endian, with or without a byte order mark, tab-delimited, as .txt or .csv', async () => {
    const dir = await testdir({
      ...frames(),
      'le-bom.txt': iconv.encode(text, 'utf-16le', { addBOM: true }),
      'be-bom.csv': iconv.encode(text, 'utf-16be', { addBOM: true }),
      'le.txt': iconv.encode(text, 'utf-16le'),
      'be.csv': iconv.encode(text, 'utf-16be'),
    });
    for (const file of ['le-bom.txt', 'be-bom.csv', 'le.txt', 'be.csv']) {
      const plan = await load(dir, file);
      expect(plan.problems, file).toEqual([]);
      expect(plan.tasks.map((t) => [t.id, t.params.prompt])).toEqual([['镜头', '日落, slowly']]);
    }
  });

  it('refuses to read UTF-16 as another encoding', async () => {
    const dir = await testdir({ ...frames(), 'u.txt': iconv.encode(text, 'utf-16le', { addBOM: true }) });
    expect(lines(errors(await load(dir, 'u.txt', { encoding: 'gbk' })))).toEqual([
      'encoding: u.txt: the file is UTF-16 (utf-16le) but is to be read as gbk (--encoding): drop the encoding',
    ]);
  });
});
