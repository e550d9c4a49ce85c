import { describe, expect, test } from "bun:test";
import { CATEGORY, GROUP } from "../group";
import { ALL_KINDS } from "../kinds";
import { buildCrd } from "./build-crd";
import type { OpenApiSchema } from "./to-openapi";

/** Every property below `node`, with its path. */
function* properties(node: OpenApiSchema, path: string): Generator<[string, OpenApiSchema]> {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    yield [`${path}.${key}`, child];
    yield* properties(child, `${path}.${key}`);
  }
  if (node.items) yield* properties(node.items, `${path}[]`);
  if (node.additionalProperties) yield* properties(node.additionalProperties, `${path}{}`);
}

describe("every CRD", () => {
  for (const kind of ALL_KINDS) {
    const crd = buildCrd(kind);
    const version = crd.spec.versions[0];
    const schema = version?.schema.openAPIV3Schema as OpenApiSchema;

    test(`${kind.names.kind}: names, category agentland, status subresource, namespaced`, () => {
      expect(crd.metadata.name).toBe(`${kind.names.plural}.${GROUP}`);
      expect(crd.spec.names.categories).toEqual([CATEGORY]);
      expect(crd.spec.names.shortNames.length).toBe(1);
      expect(crd.spec.scope).toBe("Namespaced");
      expect(version?.subresources.status).toEqual({});
    });

    test(`${kind.names.kind}: every field below spec and status has a description`, () => {
      const missing = [...properties(schema, kind.names.kind)]
        .filter(([path, node]) => !/\.(apiVersion|kind|metadata)$/.test(path) && !node.description)
        .map(([path]) => path);
      expect(missing).toEqual([]);
    });

    test(`${kind.names.kind}: printer columns end with Age and point at fields that exist`, () => {
      const columns = version?.additionalPrinterColumns ?? [];
      expect(columns.at(-1)?.jsonPath).toBe(".metadata.creationTimestamp");
      const paths = new Set([...properties(schema, "")].map(([path]) => path.replaceAll("[]", "")));
      for (const column of columns) {
        const field = column.jsonPath.replace(/\[\?\(@\.type=="\w+"\)\]/, "");
        if (field !== ".metadata.creationTimestamp")
          expect([column.name, paths.has(field)]).toEqual([column.name, true]);
      }
    });
  }

  test("short names are the documented ones", () => {
    expect(ALL_KINDS.map((k) => k.names.shortNames[0]).sort()).toEqual([
      "agrt",
      "ags",
      "codei",
      "sbx",
      "sbxc",
      "sbxp",
    ]);
  });

  test("only SandboxPool has the scale subresource, wired to replicas and the selector", () => {
    const scaled = ALL_KINDS.filter((k) => "scale" in (buildCrd(k).spec.versions[0]?.subresources ?? {}));
    expect(scaled.map((k) => k.names.kind)).toEqual(["SandboxPool"]);
    expect(buildCrd(scaled[0] as (typeof ALL_KINDS)[number]).spec.versions[0]?.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: ".spec.replicas",
        statusReplicasPath: ".status.replicas",
        labelSelectorPath: ".status.selector",
      },
    });
  });
});
