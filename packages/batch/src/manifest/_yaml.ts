import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { SourceLocation } from './types.js';

export interface YamlEntry {
  key: string;
  keyNode: Node | null;
  /** The value with aliases resolved; null for `key:` with nothing after it. */
  value: Node | null;
}

/** A parsed job file that can say where each of its nodes is (`file:line:column`). */
export class YamlFile {
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    text: string,
    readonly file: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** Syntax errors and warnings with their locations. */
  issues(): { severity: 'error' | 'warning'; loc: SourceLocation; text: string }[] {
    const all = [
      ...this.doc.errors.map((e) => ({ severity: 'error' as const, e })),
      ...this.doc.warnings.map((e) => ({ severity: 'warning' as const, e })),
    ];
    return all.map(({ severity, e }) => {
      const pos = this.lines.linePos(e.pos[0]);
      return { severity, loc: { file: this.file, line: pos.line, column: pos.col }, text: e.message };
    });
  }

  /** The location of a node (falling back to another, e.g. the key of an empty value). */
  at(node: Node | null | undefined, path: string, fallback?: Node | null): SourceLocation {
    const target = node?.range ? node : fallback?.range ? fallback : undefined;
    if (!target?.range) return { file: this.file, path };
    const pos = this.lines.linePos(target.range[0]);
    return { file: this.file, line: pos.line, column: pos.col, path };
  }

  deref(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return isNode(node) ? node : null;
  }

  isMap(node: Node | null): node is YAMLMap {
    return isMap(node);
  }

  isSeq(node: Node | null): node is YAMLSeq {
    return isSeq(node);
  }

  entries(map: YAMLMap): YamlEntry[] {
    return map.items.filter(isPair).map((pair) => {
      const keyNode = isNode(pair.key) ? pair.key : null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(pair.key);
      return { key, keyNode, value: this.deref(pair.value) };
    });
  }

  items(seq: YAMLSeq): (Node | null)[] {
    return seq.items.map((item) => this.deref(item));
  }

  /** A plain value: scalars as themselves (`5`, `"5"`, `true`), null for nothing, collections as JS. */
  value(node: Node | null): unknown {
    if (node === null) return null;
    if (isScalar(node)) return node.value;
    return node.toJS(this.doc);
  }
}

/** A type name for "expected …, got a list" messages. */
export function kindOf(file: YamlFile, node: Node | null): string {
  if (node === null) return 'nothing';
  if (file.isMap(node)) return 'a mapping';
  if (file.isSeq(node)) return 'a list';
  const value = file.value(node);
  return value === null ? 'nothing' : JSON.stringify(value);
}
