import { describe, expect, it } from 'vitest';
import { checkId, idFileKey, windowsDeviceName } from '../../src/manifest/ids.js';
import { errors, frames, lines, load, png, testdir, warnings } from './_helpers.js';

const HEADER = 'id,image,last_image,prompt';
const DEVICES = [
  'CON',
  'PRN',
  'AUX',
  'NUL',
  'CONIN$',
  'CONOUT$',
  ...Array.from({ length: 10 }, (_, i) => `COM${i}`),
  ...Array.from({ length: 10 }, (_, i) => `LPT${i}`),
  'COM¹',
  'COM²',
  'COM³',
  'LPT¹',
  'LPT²',
  'LPT³',
];

describe('ids that Windows would turn into devices', () => {
  it('refuses every device name, in any case, with any extension, with trailing dots or spaces', () => {
    for (const device of DEVICES) {
      const lower = device.toLowerCase();
      const mixed = device[0] + lower.slice(1);
      for (const id of [
        device,
        lower,
        mixed,
        `${device}.mp4`,
        `${lower}.final.v2`,
        `${device}.`,
        `${device} .txt`,
      ]) {
        expect(windowsDeviceName(id), id).toBe(device.toUpperCase());
        const check = checkId(id);
        expect(check.ok, id).toBe(false);
        if (!check.ok) expect(check.expected).toContain(`${device.toUpperCase()} is one`);
      }
    }
  });

  it('accepts names that only look like one', () => {
    for (const id of ['CONSOLE', 'COM10', 'LPT', 'con-1', 'nul_take', 'AUX2', 'a.CON', 'PRNT', 'COM1x']) {
      expect(checkId(id), id).toEqual({ ok: true, id });
    }
  });

  it('reports the id where it is written, in CSV and YAML', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': [HEADER, 'Aux.final,a.png,b.png,p'].join('\n'),
      'j.yaml': 'version: 1\ntasks:\n  - { id: lpt1, image: a.png, last_image: b.png, prompt: p }\n',
    });
    expect(lines(errors(await load(dir, 'm.csv')))).toEqual([
      'invalid-id: m.csv row 2, column id: expected a name that is not a Windows device name (AUX is one: on Windows a file named "Aux.final.mp4" is the device, not a file), got "Aux.final"',
    ]);
    expect(lines(errors(await load(dir, 'j.yaml')))).toEqual([
      'invalid-id: j.yaml:3:11: tasks[0].id: expected a name that is not a Windows device name (LPT1 is one: on Windows a file named "lpt1.mp4" is the device, not a file), got "lpt1"',
    ]);
  });

  it('refuses a job name that is a device name', async () => {
    const dir = await testdir({ ...frames(), 'j.yaml': 'version: 1\nname: nul\ntasks: []\n' });
    expect(lines(errors(await load(dir, 'j.yaml')))).toEqual([
      'invalid-value: j.yaml:2:7: name: expected a job name that is not a Windows device name (NUL is one: on Windows a file named "nul.mp4" is the device, not a file), got "nul"',
    ]);
  });
});

describe('ids that would be one file on some platform', () => {
  const nfc = 'café'.normalize('NFC');
  const nfd = 'café'.normalize('NFD');

  it('folds case and Unicode normalization', () => {
    expect(nfc).not.toBe(nfd);
    expect(idFileKey(nfc)).toBe(idFileKey(nfd));
    expect(idFileKey('Straße')).toBe(idFileKey('STRASSE'.toLowerCase().replace('ss', 'ß')));
    expect(idFileKey('ΣΟΦΟΣ')).toBe(idFileKey('σοφος'));
    expect(idFileKey('a')).not.toBe(idFileKey('á'));
  });

  it('refuses ids that differ only by NFC/NFD, or by case and form together, as duplicates', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': [
        HEADER,
        `${nfc},a.png,b.png,one`,
        `${nfd},b.png,c.png,two`,
        `CAFE\u0301,c.png,a.png,three`,
      ].join('\n'),
    });
    expect(lines(errors(await load(dir, 'm.csv')))).toEqual([
      `duplicate-id: m.csv row 3, column id (task ${nfd}): expected a unique id, got "${nfd}" again: first used at m.csv row 2 ("${nfc}" is written with other Unicode code points for the same letters (NFC/NFD): their videos would overwrite each other on macOS and Windows)`,
      `duplicate-id: m.csv row 4, column id (task CAFE\u0301): expected a unique id, got "CAFE\u0301" again: first used at m.csv row 2 ("${nfc}" differs only in case and Unicode form (NFC/NFD): their videos would overwrite each other on macOS and Windows)`,
    ]);
  });

  it('keeps derived ids clear of an id the user wrote in another case', async () => {
    const dir = await testdir({ ...frames(), 'm.csv': [HEADER, ',a.png,b.png,one'].join('\n') });
    const derived = (await load(dir, 'm.csv')).tasks[0]!.id;
    const upper = derived.toUpperCase();
    const dir2 = await testdir({
      ...frames(),
      'm.csv': [HEADER, `${upper},b.png,c.png,two`, ',a.png,b.png,one'].join('\n'),
    });
    const ids = (await load(dir2, 'm.csv')).tasks.map((t) => t.id);
    expect(ids[0]).toBe(upper);
    expect(ids[1]).not.toBe(derived);
    expect(ids[1]!.startsWith(derived)).toBe(true);
  });
});

describe('frame paths written on another platform', () => {
  it('finds a path written with Windows separators, and says how it read it', async () => {
    const dir = await testdir({
      'frames/day 1/a.png': png(32, 18, 1),
      'frames/day 1/b.png': png(32, 18, 2),
      'm.csv': [
        HEADER,
        'w,frames\\day 1\\a.png,.\\frames\\day 1\\b.png,p',
        'u,frames/day 1/a.png,frames/day 1/b.png,q',
      ].join('\r\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(errors(plan)).toEqual([]);
    expect(lines(warnings(plan))).toEqual([
      'path-spelling: m.csv row 2, column image (task w): frames\\day 1\\a.png: written with Windows separators (\\): read as frames/day 1/a.png',
      'path-spelling: m.csv row 2, column last_image (task w): .\\frames\\day 1\\b.png: written with Windows separators (\\): read as frames/day 1/b.png',
    ]);
    const [w, u] = plan.tasks;
    expect(w!.image).toMatchObject({ path: `${dir}/frames/day 1/a.png` });
    expect(w!.key).not.toBe(u!.key); // different prompts; the frames are the same files
    expect(w!.image.kind === 'file' && u!.image.kind === 'file' && w!.image.sha256 === u!.image.sha256).toBe(
      true,
    );
  });

  it('says an absolute Windows path cannot be found here', async () => {
    const dir = await testdir({
      ...frames(),
      'm.csv': [HEADER, 'x,C:\\Users\\me\\a.png,a.png,p'].join('\n'),
    });
    const [problem] = lines(errors(await load(dir, 'm.csv')));
    expect(problem).toContain('frame file not found: C:\\Users\\me\\a.png');
    expect(problem).toContain(
      'it is an absolute Windows path; give the path relative to the file that names it',
    );
  });

  it('finds a name spelled in NFD on disk from an NFC sheet, and the other way round, silently', async () => {
    const nfc = 'é'.normalize('NFC');
    const nfd = 'é'.normalize('NFD');
    const dir = await testdir({
      [`d${nfd}but/a.png`]: png(32, 18, 1),
      [`fin${nfc}/${nfc}.png`]: png(32, 18, 2),
      'm.csv': [HEADER, `x,d${nfc}but/a.png,fin${nfd}/${nfd}.png,p`].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(plan.problems).toEqual([]);
    expect(plan.tasks[0]!.image).toMatchObject({ path: `${dir}/d${nfd}but/a.png` });
    expect(plan.tasks[0]!.last_image).toMatchObject({ path: `${dir}/fin${nfc}/${nfc}.png` });
  });

  it('finds a name that differs only in case, with a warning; two candidates are not guessed between', async () => {
    const dir = await testdir({
      'Frames/Shot.PNG': png(32, 18, 1),
      'b.png': png(32, 18, 2),
      'twins/x.png': png(32, 18, 3),
      'twins/X.png': png(32, 18, 4),
      'm.csv': [HEADER, 'c,frames/shot.png,b.png,p', 't,twins/X.PNG,b.png,q'].join('\n'),
    });
    const plan = await load(dir, 'm.csv');
    expect(lines(warnings(plan))).toEqual([
      'path-spelling: m.csv row 2, column image (task c): frames/shot.png: the name on disk differs in case: read as Frames/Shot.PNG',
    ]);
    expect(lines(errors(plan))).toEqual([
      `frame-missing: m.csv row 3, column image (task t): frame file not found: twins/X.PNG (looked for ${dir}/twins/X.PNG); "X.png" and "x.png" in ${dir}/twins both match "X.PNG"; write the name exactly`,
    ]);
  });

  it('finds tasks_csv written with Windows separators', async () => {
    const dir = await testdir({
      ...frames('sheets/'),
      'sheets/shots.csv': [HEADER, 'x,a.png,b.png,p'].join('\n'),
      'j.yaml': 'version: 1\ntasks_csv: sheets\\shots.csv\n',
    });
    const plan = await load(dir, 'j.yaml');
    expect(lines(plan.problems)).toEqual([
      'path-spelling: j.yaml:2:12: tasks_csv: sheets\\shots.csv: written with Windows separators (\\): read as sheets/shots.csv',
    ]);
    expect(plan.tasks.map((t) => t.id)).toEqual(['x']);
  });
});
