import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';

/** Where a config value came from: a place in the YAML file, or a named override. */
export type ValueOrigin =
  | { kind: 'file'; file: string; line: number; column: number }
  | { kind: 'override'; name: string };

/**
 * Finds the YAML node behind a config path (`['listeners', 'amqp', 'port']`) so an error can
 * name its line and column. Overrides (environment, command line) are recorded by path and
 * win over the file.
 */
export class ConfigSourceMap {
  private readonly overrides = new Map<string, string>();

  constructor(
    readonly file: string,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter,
  ) {}

  addOverride(path: readonly string[], name: string): void {
    this.overrides.set(path.join('\u0000'), name);
  }

  /** The override that set `path` or one of its parents, if any. */
  override(path: readonly string[]): string | undefined {
    for (let n = path.length; n > 0; n--) {
      const name = this.overrides.get(path.slice(0, n).join('\u0000'));
      if (name) return name;
    }
    return undefined;
  }

  /**
   * Origin of the value at `path`; `keyOf` asks for the key itself (unknown keys). A path that
   * is absent in the file resolves to its nearest present parent.
   */
  origin(path: readonly string[], keyOf = false): ValueOrigin {
    const name = this.override(path);
    if (name) return { kind: 'override', name };
    const offset = this.offsetOf(path, keyOf);
    const pos = this.lines.linePos(offset);
    return { kind: 'file', file: this.file, line: pos.line, column: pos.col };
  }

  private offsetOf(path: readonly string[], keyOf: boolean): number {
    let node: unknown = this.doc?.contents;
    let offset = rangeStart(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === segment);
        if (!pair) return offset;
        const isLast = i === path.length - 1;
        if (isLast && keyOf) return rangeStart(pair.key) ?? offset;
        // An empty value (`port:`) has no range of its own: point at the key.
        offset = rangeStart(pair.value) ?? rangeStart(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined) return offset;
        offset = rangeStart(item) ?? offset;
        node = item;
      } else {
        return offset;
      }
    }
    return offset;
  }
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
