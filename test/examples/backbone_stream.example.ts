import { BackboneRuntime, TINY_CONFIG } from "spatial-reward/backbone";
import { ScriptedPolicy, SimEnv } from "spatial-reward/sim";

// Camera frames streamed through the Cobra-style backbone in a worker thread: each frame's
// visual tokens are prefilled into the stream's state; a question forks that state.
// A seeded-random model (no trained one is configured here): latency only, never an answer.
const backbone = await BackboneRuntime.open({ model: { seed: 1, config: TINY_CONFIG }, maxStreams: 1 });
backbone.addStream("camera");
const env = new SimEnv({ render: true, noise: "realsense", maxSteps: 20 });
let obs = env.reset(7);
const policy = new ScriptedPolicy(env);
const frameMs: number[] = [];
for (let i = 0; i < 10; i++) {
  const timing = await backbone.pushFrame("camera", obs.frame!.rgb);
  frameMs.push(timing.totalMs);
  obs = env.step(policy.act(obs)).observation;
}
const reply = await backbone.ask("camera", "how far is the mug from the bowl?", { maxTokens: 8 });
await backbone.close();
console.log(`frame ${frameMs[frameMs.length - 1].toFixed(1)} ms, ${reply.tokenMs.toFixed(2)} ms/token, trained: ${reply.trained}`);
export const result = { frameMs, reply };
