import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { WorkerInit } from "./worker_protocol.js";

/**
 * Where the worker module is. From dist/ it is the compiled `backbone_worker.js` next to this file.
 * Under vitest this file is TypeScript source and Node 20 cannot run TypeScript in a worker, so
 * the worker starts from a small bootstrap that registers module hooks compiling .ts with the
 * project's own `typescript` (a devDependency; transpile only, no type check) and resolving the
 * `.js` specifiers of our sources to their `.ts` files. Tests thus run the same worker code as
 * production with no build step; production never takes this path.
 */
export function spawnWorker(init: WorkerInit): Worker {
  const self = import.meta.url;
  if (!self.endsWith(".ts")) return new Worker(new URL("./backbone_worker.js", self), { workerData: init });
  const tsUrl = pathToFileURL(createRequire(fileURLToPath(self)).resolve("typescript")).href;
  const hooks = `
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
let ts;
export async function resolve(specifier, context, next) {
  try { return await next(specifier, context); }
  catch (e) {
    if (specifier.endsWith(".js") && (specifier.startsWith(".") || specifier.startsWith("file:")) && context.parentURL?.endsWith(".ts")) {
      return next(specifier.slice(0, -3) + ".ts", context);
    }
    throw e;
  }
}
export async function load(url, context, next) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return next(url, context);
  ts ??= (await import(${JSON.stringify(tsUrl)})).default;
  const fileName = fileURLToPath(url);
  const out = ts.transpileModule(await readFile(fileName, "utf8"), { fileName, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true } });
  return { format: "module", source: out.outputText, shortCircuit: true };
}`;
  const entry = new URL("./backbone_worker.ts", self).href;
  const boot = `
const { register } = await import("node:module");
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hooks)}));
await import(${JSON.stringify(entry)});`;
  return new Worker(boot, { eval: true, workerData: init });
}
