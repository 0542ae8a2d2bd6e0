/**
 * A one-line progress bar on stderr for long operations (imports, bulk purges and deletes).
 * On a terminal it redraws in place; otherwise it prints the final line only, so logs and
 * pipes stay readable.
 */
export class ProgressBar {
  private last = '';

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number): void {
    const width = 30;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const text = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    this.last = text;
    if (this.out.isTTY) this.out.write(`\r${text}`);
  }

  /** A failed operation: its one-line error follows, so the bar leaves nothing behind. */
  abandon(): void {
    if (this.last && this.out.isTTY) this.out.write('\r\x1b[K');
    this.last = '';
  }

  finish(): void {
    if (!this.last) return;
    this.out.write(this.out.isTTY ? '\n' : `${this.last}\n`);
  }
}
