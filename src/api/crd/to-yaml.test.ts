import { describe, expect, test } from "bun:test";
import { ALL_KINDS } from "../kinds";
import { buildCrd } from "./build-crd";
import { toYaml } from "./to-yaml";

const roundTrip = (value: unknown) => Bun.YAML.parse(toYaml(value));

describe("toYaml output reads back as the same value", () => {
  test("every generated CRD", () => {
    for (const kind of ALL_KINDS) {
      const crd = buildCrd(kind);
      expect(roundTrip(crd)).toEqual(JSON.parse(JSON.stringify(crd)));
    }
  });

  test("strings that YAML would otherwise read as something else stay strings", () => {
    const tricky = [
      "true",
      "False",
      "yes",
      "NO",
      "on",
      "Off",
      "y",
      "n",
      "null",
      "~",
      "",
      " ",
      "1",
      "1.5",
      "1e3",
      "0x1F",
      "1_000",
      "08",
      ".5",
      "-",
      "- item",
      "? key",
      "a: b",
      "a #comment",
      "#x",
      "*alias",
      "&anchor",
      "!tag",
      "|",
      ">",
      "%x",
      "@x",
      "`x`",
      "'q'",
      '"q"',
      "[a]",
      "{a}",
      "trailing ",
      "tab\there",
      "line\nbreak",
      "ends:",
      "é unicode …",
      "\u2028",
      "back\\slash",
      "self.a != 'b'",
      "^[a-z]$",
    ];
    const value = { list: tricky, map: Object.fromEntries(tricky.filter(Boolean).map((s, i) => [s, i])) };
    expect(roundTrip(value)).toEqual(value);
  });

  test("numbers, booleans, null, empty and nested collections", () => {
    const value = {
      a: 0,
      b: -1.5,
      c: true,
      d: null,
      e: [],
      f: {},
      g: [[1, [2]], { h: [] }],
      i: [{ j: { k: [{}] } }],
    };
    expect(roundTrip(value)).toEqual(value);
  });

  test("plain words are written without quotes, so the manifests stay readable", () => {
    expect(toYaml({ description: "The sandbox pod, e.g. agentland/code-interpreter:0.1.0." })).toBe(
      "description: The sandbox pod, e.g. agentland/code-interpreter:0.1.0.\n",
    );
  });

  test("values YAML cannot represent are refused", () => {
    expect(() => toYaml({ a: Number.NaN })).toThrow();
    expect(() => toYaml({ a: () => 1 })).toThrow();
  });
});
