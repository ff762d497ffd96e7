/**
 * JSON text of a value that may hold bigints (nanosecond times since the epoch exceed 2^53):
 * a bigint is written as its exact integer literal, which JSON allows and Python, jq 1.7 and
 * Go read exactly; JSON.parse in JavaScript reads it as the nearest double (within 256 ns for
 * today's epoch times). Non-finite numbers become null, as JSON.stringify writes them;
 * undefined members are left out. Cycles are not expected (reports are trees).
 */
export function jsonText(value: unknown): string {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : jsonText(v))).join(",")}]`;
      if (value instanceof Map) return jsonText(Object.fromEntries(value));
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined || typeof v === "function") continue;
        parts.push(`${JSON.stringify(k)}:${jsonText(v)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      return "null";
  }
}
