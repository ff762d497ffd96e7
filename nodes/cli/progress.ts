import cliProgress from "cli-progress";

/** Where progress goes: stderr, or a stream a test hands in (a terminal when `isTTY`). */
export interface ProgressStream {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

/** The bar's resolution: a fraction of the job is shown in steps of 1/1000. */
const STEPS = 1000;

/**
 * A job's progress on stderr, so stdout stays clean for --json consumers. On a terminal: a
 * progress bar (cli-progress) with the percentage, elapsed time, an estimate of the time left
 * and the latest status text, redrawn in place; lines given to log() stay above it. Not on a
 * terminal (a pipe, a CI log): the status text as one plain line per update, at most every
 * `intervalMs`, and log() lines as they come.
 */
export class Progress {
  private last = 0;
  private readonly tty: boolean;
  private multi: cliProgress.MultiBar | null = null;
  private bar: cliProgress.SingleBar | null = null;
  /** A status line without a bar is on screen (a terminal before the first fraction). */
  private plainOnScreen = false;

  constructor(
    private readonly intervalMs = 250,
    private readonly enabled = true,
    private readonly out: ProgressStream = process.stderr,
  ) {
    this.tty = out.isTTY === true;
  }

  /**
   * The job's status. `fraction` (0..1) is how much of it is done: given once, a terminal shows
   * the bar from then on. Updates closer than `intervalMs` to the last are skipped unless forced.
   */
  update(text: string, force = false, fraction?: number): void {
    if (!this.enabled) return;
    if (this.tty) {
      // The bar's value follows every call (its estimate of the time left averages them); only the drawing is throttled.
      if (fraction !== undefined && Number.isFinite(fraction) && this.bar === null) this.startBar();
      if (this.bar) this.bar.update(toSteps(fraction, this.bar.getProgress()), { text: oneLine(text) });
    }
    const now = Date.now();
    if (!force && now - this.last < this.intervalMs) return;
    this.last = now;
    if (!this.tty) this.out.write(`${text}\n`);
    else if (this.multi) this.redraw();
    else {
      this.out.write(`\r\x1b[2K${clip(oneLine(text), this.width())}`);
      this.plainOnScreen = true;
    }
  }

  /** A line that stays (a question and its answer, a warning): above the bar on a terminal, never throttled. */
  log(text: string): void {
    if (!this.enabled) return;
    if (!this.tty) {
      this.out.write(`${text}\n`);
      return;
    }
    if (this.multi) {
      this.multi.log(`${text}\n`);
      this.redraw();
      return;
    }
    this.out.write(`${this.plainOnScreen ? "\r\x1b[2K" : ""}${text}\n`);
    this.plainOnScreen = false;
  }

  /** Ends the status line (on a terminal the bar stays, as last drawn). Safe to call twice. */
  done(): void {
    if (!this.enabled || !this.tty) return;
    if (this.multi) {
      this.multi.stop();
      this.multi = null;
      this.bar = null;
    } else if (this.plainOnScreen) {
      this.out.write("\n");
    }
    this.plainOnScreen = false;
  }

  private width(): number {
    return this.out.columns && this.out.columns > 0 ? this.out.columns : 80;
  }

  private startBar(): void {
    if (this.plainOnScreen) this.out.write("\r\x1b[2K");
    this.plainOnScreen = false;
    const multi = new cliProgress.MultiBar({
      stream: this.out as NodeJS.WritableStream,
      format: (options, params, payload: { text?: string }) => this.format(options, params, payload.text ?? ""),
      // Lines are cut to the terminal's width by the library; with autowrap switched off
      // instead (its default), a job killed by Ctrl-C would leave the terminal not wrapping.
      linewrap: true,
      hideCursor: false,
      gracefulExit: false,
      clearOnComplete: false,
      // Redrawn after every log line too, whose writing clears the bar's line.
      forceRedraw: true,
      barsize: 24,
      barCompleteChar: "█",
      barIncompleteChar: "░",
      // Idle redraws (the elapsed time moves on); a job's own updates redraw at once.
      fps: 2,
      etaBuffer: 50,
    });
    this.multi = multi;
    this.bar = multi.create(STEPS, 0, { text: "" });
    this.unrefTimer();
  }

  private redraw(): void {
    this.multi?.update();
    this.unrefTimer();
  }

  /**
   * cli-progress re-arms a redraw timer at every redraw until stop(). A job that fails before
   * done() must still let the process exit, so the timer must not hold the event loop open.
   */
  private unrefTimer(): void {
    const timer = (this.multi as unknown as { timer?: { unref?: () => void } | null } | null)?.timer;
    timer?.unref?.();
  }

  private format(options: cliProgress.Options, params: cliProgress.Params, text: string): string {
    const { BarFormat, TimeFormat } = cliProgress.Format;
    const percent = `${Math.floor(params.progress * 100)}%`.padStart(4);
    const elapsed = TimeFormat(Math.round((Date.now() - params.startTime) / 1000), options, 1);
    // The estimate is a number of seconds, or a word ("NULL", "INF") before there is one.
    const eta = typeof params.eta === "number" && params.progress > 0 && params.progress < 1 ? ` < ${TimeFormat(params.eta, options, 1)}` : "";
    const head = `${BarFormat(params.progress, options)} ${percent} ${elapsed}${eta} | `;
    return head + clip(text, Math.max(0, this.width() - head.length - 1));
  }
}

function toSteps(fraction: number | undefined, current: number): number {
  const f = fraction !== undefined && Number.isFinite(fraction) ? fraction : current;
  return Math.round(Math.max(0, Math.min(1, f)) * STEPS);
}

/** The bar shares one line with the text: newlines become spaces. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, "  ").trim();
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
