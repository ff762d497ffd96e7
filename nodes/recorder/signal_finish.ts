/**
 * On the first SIGINT or SIGTERM, runs `finish` (end the episode: last chunk, summary, footer)
 * and then exits with 0, or 1 if it failed. A second signal while finishing exits at once with
 * 130 (the file then keeps its complete chunks: `record recover`). Returns a function that
 * removes the handlers.
 */
export function finishOnSignals(finish: () => Promise<unknown>, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  let finishing = false;
  const onSignal = (): void => {
    if (finishing) {
      exit(130);
      return;
    }
    finishing = true;
    finish().then(() => exit(0), (e: unknown) => {
      process.stderr.write(`finishing the recording failed: ${e instanceof Error ? e.message : String(e)}\n`);
      exit(1);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
