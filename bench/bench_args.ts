import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * A benchmark's command line: parseArgs, with `--help` printing `usage`, and an unknown or
 * malformed option (which parseArgs throws as an uncaught TypeError with Node's stack) said
 * in one line with the usage, exit code 2.
 */
export function benchArgs<T extends ParseArgsConfig>(name: string, usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  const argv = config.args ?? process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (e) {
    console.error(`${name}: ${e instanceof Error ? e.message : String(e)}\nusage: ${usage}`);
    process.exit(2);
  }
}

/** An option's integer value within [min, max], or the same one-line error and exit 2. */
export function benchInt(name: string, option: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    console.error(`${name}: --${option} must be an integer in [${min}, ${max}], got ${value}`);
    process.exit(2);
  }
  return n;
}

/** An option's value among `choices`, or the same one-line error and exit 2. */
export function benchChoice<C extends string>(name: string, option: string, value: string | undefined, choices: readonly C[]): C {
  const found = choices.find((c) => c === value);
  if (found === undefined) {
    console.error(`${name}: --${option} must be one of ${choices.join(", ")}, got ${value}`);
    process.exit(2);
  }
  return found;
}
