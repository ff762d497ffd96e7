/**
 * One live status line on stderr (rewritten in place on a terminal, one line per update
 * otherwise, at most every `intervalMs`), so stdout stays clean for --json consumers.
 */
export class Progress {
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly intervalMs = 250, private readonly enabled = true) {}

  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < this.intervalMs) return;
    this.last = now;
    if (this.tty) process.stderr.write(`\r\x1b[2K${text}`);
    else process.stderr.write(`${text}\n`);
  }

  done(): void {
    if (this.enabled && this.tty) process.stderr.write("\n");
  }
}
