import { describe, expect, it } from "vitest";
import { Progress, type ProgressStream } from "../../nodes/cli/progress.js";

/** A stream that records what is written; a terminal of `columns` when `tty`. */
function stream(tty: boolean, columns = 100): ProgressStream & { text: () => string } {
  const chunks: string[] = [];
  return {
    isTTY: tty,
    columns,
    write(t: string) {
      chunks.push(String(t));
      return true;
    },
    text: () => chunks.join(""),
  };
}

/** What a terminal shows of each written line: escape sequences out, carriage returns taken as a rewrite of the line. */
function screenLines(raw: string): string[] {
  return raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "\r").split("\n").map((l) => {
    const parts = l.split("\r").filter((p) => p !== "");
    return parts[parts.length - 1] ?? "";
  });
}

const BAR = /[█░]/;

describe("Progress not on a terminal (a pipe, a CI log)", () => {
  it("writes each update as one plain line, as given: no bar, no escape sequence, even with a fraction", () => {
    const s = stream(false);
    const p = new Progress(0, true, s);
    p.update("scene 1/3  75 questions", false, 1 / 3);
    p.update("scene 2/3  150 questions", false, 2 / 3);
    p.log("  Q: how far is the mug from the bowl?  A: 23 cm");
    p.update("scene 3/3  225 questions", false, 1);
    p.done();
    expect(s.text()).toBe("scene 1/3  75 questions\nscene 2/3  150 questions\n  Q: how far is the mug from the bowl?  A: 23 cm\nscene 3/3  225 questions\n");
  });

  it("skips updates closer than the interval unless forced; log lines are never skipped", () => {
    const s = stream(false);
    const p = new Progress(60_000, true, s);
    p.update("a", false, 0.1);
    p.update("b", false, 0.2);
    p.log("kept");
    p.update("c", true, 0.3);
    expect(s.text()).toBe("a\nkept\nc\n");
  });

  it("writes nothing when disabled", () => {
    const s = stream(false);
    const p = new Progress(0, false, s);
    p.update("x", true, 0.5);
    p.log("y");
    p.done();
    const t = stream(true);
    const q = new Progress(0, false, t);
    q.update("x", true, 0.5);
    q.done();
    expect(s.text() + t.text()).toBe("");
  });
});

describe("Progress on a terminal", () => {
  it("draws a bar with the percentage and the status text once a fraction is given, rewritten in place", () => {
    const s = stream(true, 120);
    const p = new Progress(0, true, s);
    p.update("scene 1/4  75 questions", false, 0.25);
    p.update("scene 2/4  150 questions", false, 0.5);
    const mid = screenLines(s.text());
    expect(mid).toHaveLength(1);
    expect(mid[0]).toMatch(BAR);
    expect(mid[0]).toMatch(/ 50% .*\| scene 2\/4  150 questions$/);
    p.update("scene 4/4  300 questions", false, 1);
    p.done();
    const end = screenLines(s.text());
    // The finished bar stays on its line, followed by a newline.
    expect(end).toHaveLength(2);
    expect(end[0]).toMatch(/^█{24} 100% .*\| scene 4\/4  300 questions$/);
    expect(end[1]).toBe("");
  });

  it("keeps log lines above the bar", () => {
    const s = stream(true, 120);
    const p = new Progress(0, true, s);
    p.update("frame 10/100", false, 0.1);
    p.log("  Q: how tall is the bowl?  A: 9 cm");
    p.update("frame 20/100", false, 0.2);
    p.done();
    const lines = screenLines(s.text()).filter((l) => l !== "");
    expect(lines).toEqual([
      "  Q: how tall is the bowl?  A: 9 cm",
      expect.stringMatching(/ 20% .*\| frame 20\/100$/),
    ]);
  });

  it("never draws a line wider than the terminal, and puts a multi-line status on one line", () => {
    const narrow = stream(true, 60);
    const p = new Progress(0, true, narrow);
    p.update(`episode 1/2: ${"x".repeat(500)}`, false, 0.5);
    p.log("y".repeat(30));
    p.update(`episode 2/2: ${"z".repeat(500)}`, false, 0.9);
    p.done();
    const lines = screenLines(narrow.text()).filter((l) => l !== "");
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l.length, l).toBeLessThan(60);
    expect(lines[1]).toMatch(/\| episode 2\/2: z+…$/);
    const wide = stream(true, 120);
    const q = new Progress(0, true, wide);
    q.update("Q: a?\n  engine: b\n  backbone: c", false, 0.6);
    q.done();
    expect(screenLines(wide.text())[0]).toMatch(/\| Q: a\?  engine: b  backbone: c$/);
  });

  it("shows the status text alone (no bar) while no fraction was given", () => {
    const s = stream(true);
    const p = new Progress(0, true, s);
    p.update("reading 1/3: a.mcap");
    p.log("warning: something");
    p.update("reading 2/3: b.mcap");
    p.done();
    expect(s.text()).not.toMatch(BAR);
    expect(screenLines(s.text())).toEqual(["warning: something", "reading 2/3: b.mcap", ""]);
  });

  it("does not hold the event loop open: a job that fails before done() still exits", () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const p = new Progress(0, true, stream(true));
    p.update("scene 1/9", false, 1 / 9);
    p.log("a line");
    p.update("scene 2/9", true, 2 / 9);
    expect(timers()).toBe(before);
    p.done();
    p.done();
  });

  it("takes out-of-range and non-finite fractions without breaking the bar", () => {
    const s = stream(true, 100);
    const p = new Progress(0, true, s);
    p.update("a", false, -3);
    expect(screenLines(s.text())[0]).toMatch(/ 0% /);
    p.update("b", false, Number.NaN);
    p.update("c", false, 7);
    expect(screenLines(s.text())[0]).toMatch(/ 100% .*\| c$/);
    p.update("d", false, Number.POSITIVE_INFINITY);
    p.done();
    expect(screenLines(s.text())[0]).toMatch(/ 100% .*\| d$/);
  });
});
