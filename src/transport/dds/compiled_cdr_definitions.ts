import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";

/** What both compiled codecs start from: the root type and every nested type's fields by name. */
export interface CdrDefinitions {
  root: MessageDefinition;
  byName: ReadonlyMap<string, readonly MessageDefinitionField[]>;
}

/** A ROS 2 field name: a letter, then letters, digits and underscores. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function isConstantModule(def: MessageDefinition): boolean {
  return def.definitions.length > 0 && def.definitions.every((f) => f.isConstant === true);
}

/**
 * The root is the first non-constant definition, as @foxglove/rosmsg2-serialization picks it;
 * the error text is the library's (reader and writer alike), so both refuse alike.
 */
export function cdrDefinitions(definitions: readonly MessageDefinition[]): CdrDefinitions {
  for (const def of definitions) {
    for (const f of def.definitions) {
      // Names become property keys in generated source: a literal `"__proto__": v` would set the
      // message's prototype instead of a field. ROS 2 names are identifiers, so refuse the rest.
      if (f.isConstant !== true && !FIELD_NAME.test(f.name)) {
        throw new Error(`field name ${JSON.stringify(f.name)} of ${def.name ?? "the root type"} is not a ROS 2 field name`);
      }
    }
  }
  const root = definitions.find((d) => !isConstantModule(d));
  if (root === undefined) throw new Error("MessageReader initialized with no root MessageDefinition");
  return { root, byName: new Map(definitions.map((d) => [d.name ?? "", d.definitions])) };
}
