import { Perception } from "../../src/perception/perception.js";
import { perceptionKernels } from "../perception/native_perception_kernels.js";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { parseAnswerText } from "../../src/spatial/answer_text_parser.js";
import { tryParseQuestion } from "../../src/spatial/question_parser.js";
import { displayName } from "../../src/scene/scene_object.js";
import type { AskOptions } from "./program.js";
import { simSample } from "./sim_samples.js";

/** Most tokens the backbone's answer may take (as eval: the engine's longest sentences are about 100 bytes). */
const ANSWER_MAX_TOKENS = 160;

/** Answers one question about a seed's scene, from the rendered frame alone (options checked by program.ts). */
export async function run(question: string, values: AskOptions): Promise<number> {
  if (values.source === "backbone") return runBackbone(question, values);
  const sample = simSample(values.seed, { noise: values.noise, masks: values.masks });
  const scene = new Perception({ kernels: perceptionKernels() }).process(sample.frame);
  const answer = answerQuestion(scene, question);
  if (values.json) {
    console.log(JSON.stringify({ ...answer, value: Number.isFinite(answer.value) ? answer.value : null, objects: scene.objects.map(displayName) }));
  } else {
    console.log(answer.text);
  }
  return answer.status === "ok" ? 0 : 1;
}

/**
 * The backbone's answer from the scene's RGB frame alone. An untrained model's text is noise: it
 * is never printed as an answer (exit 0, a line saying the model is untrained, and the latency).
 * A trained model's text is the answer, read back with parseAnswerText into the engine's
 * structured value; exit 1 when that text cannot be read (no answer), like an engine refusal.
 */
async function runBackbone(question: string, values: AskOptions): Promise<number> {
  const model = values.model;
  if (model === undefined) throw new Error("--source backbone needs --model (checked by program.ts)");
  const { BackboneRuntime } = await import("../backbone/backbone_runtime.js");
  const sample = simSample(values.seed, { noise: values.noise, masks: values.masks });
  const rt = await BackboneRuntime.open({ model: { dir: model }, maxStreams: 1 });
  try {
    rt.addStream("ask");
    const frame = await rt.pushFrame("ask", sample.frame.rgb);
    const a0 = performance.now();
    const a = await rt.ask("ask", question, { maxTokens: ANSWER_MAX_TOKENS });
    const answerMs = performance.now() - a0;
    const frameMs = frame.encodeMs + frame.projectMs + frame.prefillMs;
    const latency = { frame_ms: Math.round(frameMs * 1000) / 1000, answer_ms: Math.round(answerMs * 1000) / 1000, answer_tokens: a.tokenIds.length };
    if (!a.trained) {
      const line = `the backbone model in ${model} is untrained (seeded random weights): its text is not an answer and is not shown. ` +
        `Latency: frame (encode + prefill) ${latency.frame_ms} ms, answer ${latency.answer_ms} ms (${latency.answer_tokens} tokens).`;
      if (values.json) console.log(JSON.stringify({ source: "backbone", trained: false, status: "untrained", text: line, ...latency }));
      else console.log(line);
      return 0;
    }
    const parsedQ = tryParseQuestion(question);
    const parsed = parsedQ ? parseAnswerText(a.text, parsedQ.type, parsedQ.slots) : null;
    const ok = parsed !== null && parsed.status === "ok";
    if (values.json) {
      console.log(JSON.stringify({
        source: "backbone",
        trained: true,
        status: ok ? "ok" : "unparsed",
        type: parsedQ?.type ?? null,
        question,
        text: a.text,
        value: ok ? parsed.value : null,
        unit: ok ? parsed.unit : "",
        ...(ok && parsed.boolean !== undefined ? { boolean: parsed.boolean } : {}),
        ...(ok && parsed.choice !== undefined ? { choice: parsed.choice } : {}),
        ...latency,
      }));
    } else {
      console.log(a.text.trim() === "" ? "(the backbone model produced no text)" : a.text);
    }
    return ok ? 0 : 1;
  } finally {
    await rt.close();
  }
}
