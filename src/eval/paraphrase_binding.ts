import { InvalidInputError } from "../errors.js";
import type { Scene } from "../scene/scene_object.js";
import { generateQuestions } from "../spatial/question_generator.js";
import { fillTemplate } from "../spatial/question_templates.js";
import { questionType, type QuestionTypeId } from "../spatial/question_types.js";
import { pluralPhrase, singularPhrase } from "../spatial/set_phrase.js";
import type { ParaphraseEntry } from "./paraphrase_set.js";

/** One paraphrase and its canonical question with the placeholders bound to a scene's objects. */
export interface BoundParaphrase {
  type: QuestionTypeId;
  /** The entry's index in the set. */
  index: number;
  canonical: string;
  paraphrase: string;
}

const PLACEHOLDER = /\{([ABC])(?::(plural|singular))?\}/g;

/**
 * The paraphrase set bound to one scene: for each type the set uses, the question generator
 * picks the slot objects (uniquely named, not too close to call: the same rules as eval's own
 * questions), and every entry of the type is filled with them. The canonical is filled as the
 * generator fills templates ("the red mug"; a set slot as its type's templates say it); the
 * paraphrase gets bare names (it writes its own article) and may ask a set in the other number
 * ({A:plural}, {A:singular}). Entries of a type the scene cannot ask are left out (`unbound`).
 */
export function bindParaphrases(truth: Scene, entries: readonly ParaphraseEntry[], rng: () => number): { bound: BoundParaphrase[]; unbound: number } {
  const types = [...new Set(entries.map((e) => e[0]))];
  const slotsByType = new Map<QuestionTypeId, string[]>();
  for (const type of types) {
    const q = generateQuestions(truth, rng, { types: [type], perType: 1 }).questions[0];
    if (q) slotsByType.set(type, q.slots);
  }
  const bound: BoundParaphrase[] = [];
  let unbound = 0;
  entries.forEach(([type, canonical, paraphrase], index) => {
    const slots = slotsByType.get(type);
    if (!slots) {
      unbound++;
      return;
    }
    const roles = questionType(type).slotRoles;
    const canonicalNames = slots.map((s, i) => (roles[i] === "set" ? s : `the ${s}`));
    bound.push({
      type,
      index,
      canonical: fillTemplate(canonical, canonicalNames),
      paraphrase: paraphrase.replace(PLACEHOLDER, (_m, slot: string, form: string | undefined) => {
        const name = slots["ABC".indexOf(slot)];
        if (name === undefined) throw new InvalidInputError("bad_argument", `paraphrase ${index} (${type}) uses {${slot}}, which ${type} has no slot for`);
        return form === "plural" ? pluralPhrase(name) : form === "singular" ? singularPhrase(name) : name;
      }),
    });
  });
  return { bound, unbound };
}
