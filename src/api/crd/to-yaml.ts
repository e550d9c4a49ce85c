/**
 * A small, deterministic YAML writer for generated manifests: block style, keys in insertion order, and a
 * string left unquoted only when every YAML 1.1 and 1.2 reader (kubectl's included) reads it back as the same
 * string. Everything else is written as a JSON string, which is also a valid YAML double-quoted scalar.
 */

/** Starts with a letter; none of the characters that quote, escape, comment or open a flow collection. */
const PLAIN_STRING = /^[A-Za-z][A-Za-z0-9 ._/()',;:=+*?<>@%&!~|$^-]*$/;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
/** Words YAML 1.1 reads as booleans or null. */
const KEYWORDS = /^(y|yes|n|no|true|false|on|off|null)$/i;

export function toYaml(value: unknown): string {
  return `${lines(value, 0).join("\n")}\n`;
}

function lines(value: unknown, indent: number): string[] {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${pad}[]`];
    return value.flatMap((item) => {
      const [first = "", ...rest] = isBlock(item) ? lines(item, indent + 2) : [`${pad}  ${scalar(item)}`];
      return [`${pad}- ${first.slice(indent + 2)}`, ...rest];
    });
  }
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return [`${pad}{}`];
    return entries.flatMap(([key, item]) =>
      isBlock(item)
        ? [`${pad}${yamlKey(key)}:`, ...lines(item, indent + 2)]
        : [`${pad}${yamlKey(key)}: ${scalar(item)}`],
    );
  }
  return [`${pad}${scalar(value)}`];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Non-empty collections go on their own lines; empty ones are written inline as `{}` or `[]`. */
function isBlock(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return isObject(value) && Object.values(value).some((v) => v !== undefined);
}

function scalar(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "[]";
  if (isObject(value)) return "{}";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as YAML`);
    return String(value);
  }
  if (typeof value === "string") return PLAIN_STRING.test(value) && plainSafe(value) ? value : quoted(value);
  throw new Error(`cannot write a ${typeof value} as YAML`);
}

function plainSafe(text: string): boolean {
  return !KEYWORDS.test(text) && !text.includes(": ") && !text.endsWith(":") && !text.endsWith(" ");
}

function yamlKey(key: string): string {
  return PLAIN_KEY.test(key) && !KEYWORDS.test(key) ? key : quoted(key);
}

/**
 * A quoted scalar, in the style Biome's formatter keeps (the repository's `biome check` covers manifests):
 * single quotes when that saves escaping double quotes, else JSON string syntax — with the characters YAML
 * treats as line breaks escaped too.
 */
function quoted(text: string): string {
  const doubles = text.split('"').length - 1;
  const singles = text.split("'").length - 1;
  // Single-quoted YAML has no escapes except '' for ', so it suits only printable text.
  if (doubles > singles && /^[\x20-\x7e]*$/.test(text)) return `'${text.replaceAll("'", "''")}'`;
  return JSON.stringify(text).replace(
    /[\u0085\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
