#!/usr/bin/env node
import { report, runCli } from "./run_cli.js";

const argv = process.argv.slice(2);
const prefix = argv[0] && !argv[0].startsWith("-") ? `spatial-reward ${argv[0]}` : "spatial-reward";
// A failure outside a command's own flow (a timer, a socket callback) still ends in one line, exit 1.
process.on("uncaughtException", (e) => {
  report(prefix, e);
  process.exit(1);
});
process.on("unhandledRejection", (e) => {
  report(prefix, e);
  process.exit(1);
});
runCli(argv).then((code) => {
  process.exitCode = code;
});
