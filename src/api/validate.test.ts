import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { agentRuntimeKind, parseAgentRuntime } from "./agent-runtime";
import { agentSessionKind, parseAgentSession } from "./agent-session";
import { codeInterpreterKind, parseCodeInterpreter } from "./code-interpreter";
import { ALL_KINDS } from "./kinds";
import { parseSandbox, sandboxKind } from "./sandbox";
import { parseSandboxPool, sandboxPoolKind } from "./sandbox-pool";
import { object } from "./testing/case-objects";
import { INVALID_OBJECTS } from "./testing/invalid-objects";
import { UPDATES } from "./testing/updates";
import { VALID_OBJECTS } from "./testing/valid-objects";
import { ApiValidationError, validateObject, validateUpdate } from "./validate";
import { MANIFESTS_DIR } from "./write-crds";

describe("src/api validation", () => {
  test("the invalid table has at least 20 cases and covers every kind", () => {
    expect(INVALID_OBJECTS.length).toBeGreaterThanOrEqual(20);
    const kinds = new Set(INVALID_OBJECTS.map((c) => c.kind.names.kind));
    expect([...kinds].sort()).toEqual(ALL_KINDS.map((k) => k.names.kind).sort());
  });

  for (const c of INVALID_OBJECTS) {
    test(`rejects ${c.kind.names.kind} with ${c.name}, blaming ${c.field}`, () => {
      const result = validateObject(c.kind, c.object);
      expect(result.success).toBe(false);
      if (result.success) return;
      // The same field the apiserver names (or a field inside it). Rules on the whole object (about
      // metadata.name) cannot point into metadata, on either side: their message names the field instead.
      const blamed = result.issues.some(
        ({ path, message }) =>
          path === c.field ||
          path.startsWith(`${c.field}.`) ||
          path.startsWith(`${c.field}[`) ||
          (path === "" && message.includes(c.field)),
      );
      expect(blamed).toBe(true);
    });
  }

  for (const c of VALID_OBJECTS) {
    test(`accepts ${c.kind.names.kind}: ${c.name}`, () => {
      const result = validateObject(c.kind, c.object);
      expect(result.success ? [] : result.issues).toEqual([]);
    });
  }

  for (const c of UPDATES) {
    test(`update "${c.name}" is ${c.field ? `rejected at ${c.field}` : "accepted"}`, () => {
      const issues = validateUpdate(c.kind, c.old, c.updated);
      if (c.field) expect(issues.map((i) => i.path)).toContain(c.field);
      else expect(issues).toEqual([]);
    });
  }
});

describe("defaults match the CRD defaults", () => {
  test("an empty CodeInterpreter spec gets the documented timeouts and PoolPreferred", () => {
    const ci = parseCodeInterpreter(object(codeInterpreterKind, {}));
    expect(ci.spec).toEqual({
      sessionTimeout: "15m",
      maxSessionDuration: "2h",
      provisioning: { mode: "PoolPreferred" },
    });
  });

  test("a template gets port 1883 and default resources", () => {
    const sbx = parseSandbox(object(sandboxKind, { sandboxTemplate: { image: "x" } }));
    expect(sbx.spec.sandboxTemplate.port).toBe(1883);
    expect(sbx.spec.sandboxTemplate.resources).toEqual({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "1", memory: "512Mi" },
    });
  });

  test("an AgentSession gets no timeout defaults: the runtime's apply", () => {
    const ags = parseAgentSession(object(agentSessionKind, { runtimeRef: { name: "r" } }));
    expect(ags.spec).toEqual({ runtimeRef: { name: "r" } });
  });
});

describe("parseX", () => {
  test("throws one ApiValidationError listing every bad field", () => {
    const bad = object(sandboxPoolKind, { replicas: -1 });
    let error: unknown;
    try {
      parseSandboxPool(bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ApiValidationError);
    const issues = (error as ApiValidationError).issues.map((i) => i.path);
    expect(issues).toContain("spec.replicas");
    expect((error as ApiValidationError).code).toBe("invalid_object");
  });

  test("rejects an object of another kind", () => {
    expect(() => parseAgentRuntime({ ...object(agentRuntimeKind, {}), kind: "Pod" })).toThrow(
      ApiValidationError,
    );
  });

  test("keeps unknown metadata fields such as managedFields", () => {
    const ci = parseCodeInterpreter({
      ...object(codeInterpreterKind, {}),
      metadata: { name: "x", managedFields: [{ manager: "kubectl" }] },
    });
    expect(ci.metadata["managedFields"]).toEqual([{ manager: "kubectl" }]);
  });
});

describe("examples", () => {
  const dir = join(MANIFESTS_DIR, "examples");
  for (const file of ["agent-runtime.yaml", "sandbox-pool.yaml", "code-interpreter.yaml"]) {
    test(`${file} is valid for src/api`, () => {
      const doc = Bun.YAML.parse(readFileSync(join(dir, file), "utf8")) as { kind: string };
      const kind = ALL_KINDS.find((k) => k.names.kind === doc.kind);
      expect(kind).toBeDefined();
      if (!kind) return;
      const result = validateObject(kind, doc);
      expect(result.success ? [] : result.issues).toEqual([]);
    });
  }
});
