/**
 * Session ids are the session CRs' names: a kind prefix and 21 characters of lowercase base32, i.e. 105
 * random bits (the design asks for ≥ 100), valid as a Kubernetes name and as a label value.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const ID_CHARS = 21;
const ID_PATTERN = /^(ci|as)-[a-z2-7]{21}$/;

export function newSessionId(prefix: string, random: (n: number) => Uint8Array = randomBytes): string {
  const bytes = random(ID_CHARS);
  let out = prefix;
  for (let i = 0; i < ID_CHARS; i++) out += ALPHABET[(bytes[i] as number) & 31];
  return out;
}

/** Rejects anything that cannot be a session id before it reaches the apiserver. */
export function isSessionId(id: string): boolean {
  return ID_PATTERN.test(id);
}
