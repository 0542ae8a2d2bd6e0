/** A selector that does not parse: the parser's message and the 0-based character position. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at position ${position}`);
  }
}
