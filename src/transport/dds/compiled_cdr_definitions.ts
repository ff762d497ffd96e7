import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";

/** What both compiled codecs start from: the root type and every nested type's fields by name. */
export interface CdrDefinitions {
  root: MessageDefinition;
  byName: ReadonlyMap<string, readonly MessageDefinitionField[]>;
}

function isConstantModule(def: MessageDefinition): boolean {
  return def.definitions.length > 0 && def.definitions.every((f) => f.isConstant === true);
}

/**
 * The root is the first non-constant definition, as @foxglove/rosmsg2-serialization picks it;
 * the error text is the library's (reader and writer alike), so both refuse alike.
 */
export function cdrDefinitions(definitions: readonly MessageDefinition[]): CdrDefinitions {
  const root = definitions.find((d) => !isConstantModule(d));
  if (root === undefined) throw new Error("MessageReader initialized with no root MessageDefinition");
  return { root, byName: new Map(definitions.map((d) => [d.name ?? "", d.definitions])) };
}
