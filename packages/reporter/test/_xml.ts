/**
 * A deliberately strict little XML reader for the JUnit tests (no XML parser is a dependency): it throws on
 * anything not well-formed that a report could plausibly contain — stray `<` or `&`, unknown entities,
 * characters XML 1.0 forbids, mismatched tags, a second root — and returns the element tree.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ILLEGAL =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NAME = /^[A-Za-z_][\w.-]*/;

export function parseXml(xml: string): XmlElement {
  if (ILLEGAL.test(xml)) throw new Error(`character not allowed in XML at ${xml.search(ILLEGAL)}`);
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  };
  const decode = (raw: string): string => {
    if (raw.includes('<')) fail('unescaped <');
    return raw.replace(/&([^;]*);|&/g, (m, ref: string | undefined) => {
      if (ref === undefined) fail('bare &');
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (ref! in named) return named[ref!]!;
      const num = /^#x([0-9a-fA-F]+)$/.exec(ref!)?.[1] ?? /^#([0-9]+)$/.exec(ref!)?.[1];
      if (num === undefined) fail(`unknown entity ${m}`);
      const code = ref!.startsWith('#x') ? Number.parseInt(num!, 16) : Number.parseInt(num!, 10);
      const ch = String.fromCodePoint(code);
      if (ILLEGAL.test(ch)) fail(`reference to a forbidden character ${m}`);
      return ch;
    });
  };
  const skipSpace = () => {
    while (/\s/.test(xml[i] ?? '')) i++;
  };
  if (xml.startsWith('<?xml')) {
    i = xml.indexOf('?>') + 2;
    if (i < 2) fail('unterminated declaration');
  }
  skipSpace();
  const element = (): XmlElement => {
    if (xml[i] !== '<') fail('expected <');
    i++;
    const name = NAME.exec(xml.slice(i))?.[0] ?? fail('expected a tag name');
    i += name.length;
    const el: XmlElement = { name, attrs: {}, children: [], text: '' };
    for (;;) {
      skipSpace();
      if (xml.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (xml[i] === '>') {
        i++;
        break;
      }
      const attr = NAME.exec(xml.slice(i))?.[0] ?? fail('expected an attribute');
      i += attr.length;
      if (xml[i] !== '=' || xml[i + 1] !== '"') fail('expected ="');
      const end = xml.indexOf('"', i + 2);
      if (end < 0) fail('unterminated attribute');
      if (attr in el.attrs) fail(`duplicate attribute ${attr}`);
      el.attrs[attr] = decode(xml.slice(i + 2, end));
      i = end + 1;
    }
    for (;;) {
      const next = xml.indexOf('<', i);
      if (next < 0) fail(`unclosed <${name}>`);
      el.text += decode(xml.slice(i, next));
      i = next;
      if (xml.startsWith('</', i)) {
        const close = `</${name}>`;
        if (!xml.startsWith(close, i)) fail(`expected ${close}`);
        i += close.length;
        return el;
      }
      el.children.push(element());
    }
  };
  const root = element();
  skipSpace();
  if (i !== xml.length) fail('content after the root element');
  return root;
}
