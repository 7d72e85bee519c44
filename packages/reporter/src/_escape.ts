/** Text for an HTML element's content or a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

// XML 1.0 forbids most control characters, lone surrogates and U+FFFE/U+FFFF even as character references,
// and provider messages can carry any of them: a CI dashboard that rejects the whole file over one byte is
// worse than a replacement character.
const XML_INVALID =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text for XML element content: escaped, with characters XML cannot carry replaced. */
export function xmlText(text: string): string {
  return text.replace(XML_INVALID, '\uFFFD').replace(/[&<>]/g, (c) => XML_ENTITIES[c]!);
}

/** Text for a double-quoted XML attribute; tabs and line breaks survive (parsers turn raw ones into spaces). */
export function xmlAttr(text: string): string {
  return text.replace(XML_INVALID, '\uFFFD').replace(/[&<>"\t\n\r]/g, (c) => XML_ENTITIES[c]!);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * JSON that is safe inside `<script type="application/json">`: no `<`, `>` or `&` can close the element or
 * open a comment, and U+2028/U+2029 are escaped for any consumer that evaluates it as JavaScript.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
