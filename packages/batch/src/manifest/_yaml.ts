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
    // Merge keys (`<<: *common`) are YAML 1.1, but every YAML user reaches for them: they are on.
    this.doc = parseDocument(text, {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: true,
      merge: true,
    });
  }

  /** Merge keys whose value is not a mapping (or a list of them), found by `entries`: reported once each. */
  readonly mergeProblems: { loc: SourceLocation; text: string }[] = [];
  private readonly mergeReported = new Set<Node>();

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

  /**
   * A mapping's entries, merge keys applied as YAML defines them: the mapping's own keys win, then the merged
   * mappings in the order written (`<<: [*a, *b]`: `a` before `b`). A merged entry keeps its own location (where
   * the anchor's mapping says it).
   */
  entries(map: YAMLMap, depth = 0): YamlEntry[] {
    const own: YamlEntry[] = [];
    const merged: YamlEntry[] = [];
    for (const pair of map.items.filter(isPair)) {
      const keyNode = isNode(pair.key) ? pair.key : null;
      if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
        merged.push(...this.mergeSources(pair.value, keyNode, depth));
        continue;
      }
      const key = isScalar(keyNode) ? String(keyNode.value) : String(pair.key);
      own.push({ key, keyNode, value: this.deref(pair.value) });
    }
    if (merged.length === 0) return own;
    const seen = new Set(own.map((entry) => entry.key));
    const result = [...own];
    for (const entry of merged) {
      if (seen.has(entry.key)) continue;
      seen.add(entry.key);
      result.push(entry);
    }
    return result;
  }

  private mergeSources(value: unknown, keyNode: Node, depth: number): YamlEntry[] {
    const target = this.deref(value);
    const sources = this.isSeq(target) ? this.items(target) : [target];
    const entries: YamlEntry[] = [];
    for (const source of sources) {
      if (this.isMap(source) && depth < 32) entries.push(...this.entries(source, depth + 1));
      else if (!this.mergeReported.has(keyNode)) {
        this.mergeReported.add(keyNode);
        this.mergeProblems.push({
          loc: this.at(source, '<<', keyNode),
          text: `expected a mapping to merge (<<: *anchor) or a list of them, got ${kindOf(this, source)}`,
        });
      }
    }
    return entries;
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

  /**
   * A value that is text by nature (an id, a prompt, a path): the text as written. YAML would read `007` as 7,
   * `0x1A` as 26, `1e3` as 1000, `12345678901234567890` as a number it cannot hold; none of those is what the
   * user wrote. Quoted and block scalars are text already; collections and nulls come back as `value` does.
   */
  text(node: Node | null): unknown {
    const value = this.value(node);
    if (value === null || typeof value === 'string' || !isScalar(node)) return value;
    return node.type === 'PLAIN' && typeof node.source === 'string' ? node.source : value;
  }

  isPlain(node: Node | null): boolean {
    return isScalar(node) && node.type === 'PLAIN';
  }

  /** `~` or `null` written out (not an empty value): the source text, else undefined. */
  writtenNull(node: Node | null): string | undefined {
    if (!isScalar(node) || node.value !== null || node.type !== 'PLAIN') return undefined;
    return typeof node.source === 'string' && node.source !== '' ? node.source : undefined;
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
