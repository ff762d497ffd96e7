import { GraphFuzzer } from "./graph_fuzzer.js";
import { benchArgs } from "./bench_args.js";

/**
 * `npm run fuzz`: a million hostile messages (mutated CDR bytes and fields) through the
 * message → frame → scene → reward path of the node graph; JSON on stdout, progress on stderr.
 * Exit 1 when an invariant broke: an unexpected exception, an exception reaching the
 * transport, a question without an answer, or a clean frame after hostile input not rewarded.
 */
const { values } = benchArgs("fuzz", "npm run fuzz -- [--messages N] [--seed S] [--json]", {
  options: {
    messages: { type: "string", default: "1000000" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});
const messages = Number(values.messages), seed = Number(values.seed);
if (!Number.isSafeInteger(messages) || messages < 1) {
  console.error(`fuzz: --messages must be a positive integer, got "${values.messages}"`);
  process.exit(2);
}
if (!Number.isSafeInteger(seed) || seed < 0) {
  console.error(`fuzz: --seed must be a non-negative integer, got "${values.seed}"`);
  process.exit(2);
}
const fuzzer = new GraphFuzzer(seed);
const report = fuzzer.run(messages, (done) => process.stderr.write(`fuzz: ${done}/${messages} messages, rss ${Math.round(process.memoryUsage().rss / 1e6)} MB\n`));
await fuzzer.shutdown();
const ok = report.internal_errors === 0 && report.callback_errors === 0 && report.cdr_non_error_throws === 0
  && report.answers === report.questions && report.clean_frames_rewarded === report.clean_frames;
console.log(values.json ? JSON.stringify({ ...report, ok }) : JSON.stringify({ ...report, ok }, null, 2));
process.exitCode = ok ? 0 : 1;
