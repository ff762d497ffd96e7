import { parseArgs } from "node:util";
import { Perception } from "../../src/perception/perception.js";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { displayName } from "../../src/scene/scene_object.js";
import { parseMasks, parseNoise, simSample } from "./sim_samples.js";

const HELP = `usage: spatial-reward ask --seed S [--noise none|realsense] [--masks gt|detections] [--json] "<question>"

Answers a question about the seeded simulator scene (the same scene eval uses for that seed),
from the rendered frame alone.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      seed: { type: "string", default: "0" },
      noise: { type: "string", default: "none" },
      masks: { type: "string", default: "gt" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const question = positionals.join(" ");
  const sample = simSample(Number(values.seed), { noise: parseNoise(values.noise), masks: parseMasks(values.masks) });
  const scene = new Perception().process(sample.frame);
  const answer = answerQuestion(scene, question);
  if (values.json) {
    console.log(JSON.stringify({ ...answer, value: Number.isFinite(answer.value) ? answer.value : null, objects: scene.objects.map(displayName) }));
  } else {
    console.log(answer.text);
  }
  return answer.status === "ok" ? 0 : 1;
}
