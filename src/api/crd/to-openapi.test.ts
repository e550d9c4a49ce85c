import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { celRule, transitionRule } from "../schema/cel-rule";
import { quantity } from "../schema/fields";
import { uniqueBy } from "../schema/list-map";
import { SchemaConversionError, toOpenApi } from "./to-openapi";

const described = <T extends v.GenericSchema>(schema: T) => v.pipe(schema, v.description("d"));

describe("toOpenApi refuses what the apiserver would check differently", () => {
  test("a plain check (TypeScript only)", () => {
    const schema = v.pipe(
      v.string(),
      v.check((s) => s !== "x"),
      v.description("d"),
    );
    expect(() => toOpenApi(schema, "T")).toThrow(SchemaConversionError);
  });

  test("a transform", () => {
    expect(() => toOpenApi(v.pipe(v.string(), v.transform(Number)), "T")).toThrow(/transform/);
  });

  test("an unanchored or flagged regex", () => {
    expect(() => toOpenApi(v.pipe(v.string(), v.regex(/a/)), "T")).toThrow(/anchored/);
    expect(() => toOpenApi(v.pipe(v.string(), v.regex(/^a$/i)), "T")).toThrow(/flags/);
  });

  test("a field without a description", () => {
    expect(() => toOpenApi(v.object({ a: v.string() }), "T")).toThrow(
      /T\.a: every field needs a description/,
    );
  });

  test("unions other than int-or-string", () => {
    expect(() => toOpenApi(v.union([v.string(), v.boolean()]), "T")).toThrow(SchemaConversionError);
  });

  test("record keys with their own checks (they must be CEL rules)", () => {
    expect(() => toOpenApi(v.record(v.pipe(v.string(), v.minLength(1)), described(v.string())), "T")).toThrow(
      /keys/,
    );
  });

  test("transition rules inside lists, which validateUpdate does not follow", () => {
    const item = v.pipe(
      v.string(),
      transitionRule({ rule: "self == oldSelf", message: "m", check: () => true }),
      v.description("d"),
    );
    expect(() => toOpenApi(v.array(item), "T")).toThrow(/transition/);
  });
});

describe("toOpenApi output", () => {
  test("objects list required fields, defaults and CEL rules", () => {
    const schema = v.pipe(
      v.object({
        a: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.description("A.")), 3),
        b: described(v.string()),
      }),
      celRule({
        rule: "self.a < 5",
        message: "small",
        fieldPath: ".a",
        reason: "FieldValueForbidden",
        check: (o) => o.a < 5,
      }),
      v.description("Top."),
    );
    expect(toOpenApi(schema, "T")).toEqual({
      type: "object",
      description: "Top.",
      required: ["b"],
      properties: {
        a: { type: "integer", minimum: 0, description: "A.", default: 3 },
        b: { type: "string", description: "d" },
      },
      "x-kubernetes-validations": [
        { rule: "self.a < 5", message: "small", fieldPath: ".a", reason: "FieldValueForbidden" },
      ],
    });
  });

  test("a quantity is written the way controller-gen writes int-or-string quantities", () => {
    const out = toOpenApi(quantity("Q."), "T");
    expect(out["x-kubernetes-int-or-string"]).toBe(true);
    expect(out.anyOf).toEqual([{ type: "integer" }, { type: "string" }]);
    expect(out.pattern).toStartWith("^");
    expect(out.minimum).toBe(0);
    expect(out.description).toBe("Q.");
  });

  test("uniqueBy becomes a list-map keyed by that field", () => {
    const item = described(v.object({ name: described(v.string()) }));
    const out = toOpenApi(v.pipe(v.array(item), uniqueBy("name"), v.description("L.")), "T");
    expect(out["x-kubernetes-list-type"]).toBe("map");
    expect(out["x-kubernetes-list-map-keys"]).toEqual(["name"]);
  });

  test("an outer description replaces the one of a reused schema", () => {
    const inner = v.pipe(v.string(), v.description("inner"));
    expect(toOpenApi(v.pipe(inner, v.description("outer")), "T").description).toBe("outer");
  });
});
