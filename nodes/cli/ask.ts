import { Perception } from "../../src/perception/perception.js";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { displayName } from "../../src/scene/scene_object.js";
import type { AskOptions } from "./program.js";
import { simSample } from "./sim_samples.js";

/** Answers one question about a seed's scene, from the rendered frame alone (options checked by program.ts). */
export async function run(question: string, values: AskOptions): Promise<number> {
  const sample = simSample(values.seed, { noise: values.noise, masks: values.masks });
  const scene = new Perception().process(sample.frame);
  const answer = answerQuestion(scene, question);
  if (values.json) {
    console.log(JSON.stringify({ ...answer, value: Number.isFinite(answer.value) ? answer.value : null, objects: scene.objects.map(displayName) }));
  } else {
    console.log(answer.text);
  }
  return answer.status === "ok" ? 0 : 1;
}
