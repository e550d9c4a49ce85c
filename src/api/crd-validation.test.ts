/**
 * The CRDs on a real kube-apiserver: every case of `testing/` (invalid, valid, updates) gets the same verdict from the
 * apiserver as from `src/api` validation, the apiserver names the offending field, and defaulting agrees.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testCluster } from "../../e2e/harness/test-cluster";
import { buildCrd, crdName } from "./crd/build-crd";
import { ALL_KINDS } from "./kinds";
import { INVALID_OBJECTS } from "./testing/invalid-objects";
import { installCrds, type KubectlResult, mapLimit } from "./testing/kubectl";
import { UPDATES } from "./testing/updates";
import { VALID_OBJECTS } from "./testing/valid-objects";
import { validateObject, validateUpdate } from "./validate";
import { MANIFESTS_DIR } from "./write-crds";

const cluster = testCluster();
/** Tests that run kubectl several times; a loaded machine makes each call take seconds. */
const KUBECTL_TIMEOUT = 60_000;
let ns = "";

const kubectl = (args: readonly string[], stdin?: string) =>
  cluster.kubectl(args, stdin === undefined ? {} : { stdin });

/**
 * Whether the apiserver's message blames `field`: `field: Reason` on a line of its own, or — for rules on the
 * whole object, which Kubernetes reports at `<nil>` — a message that names it.
 */
function blames(stderr: string, field: string): boolean {
  const escaped = field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return (
    new RegExp(`(^|[\\s*])${escaped}: `, "m").test(stderr) || new RegExp(`<nil>: .*${escaped}`).test(stderr)
  );
}

const invalidResults: KubectlResult[] = [];
const validResults: KubectlResult[] = [];
const updateResults: KubectlResult[] = [];

async function tryUpdate(index: number): Promise<KubectlResult> {
  const c = UPDATES[index] as (typeof UPDATES)[number];
  const name = `update-${index}`;
  const meta = (o: Record<string, unknown>) => ({ ...(o["metadata"] as object), name, namespace: ns });
  const created = await kubectl(
    ["create", "-o", "json", "-f", "-"],
    JSON.stringify({ ...c.old, metadata: meta(c.old) }),
  );
  if (created.code !== 0) throw new Error(`creating the old object of "${c.name}" failed: ${created.stderr}`);
  const { resourceVersion } = (JSON.parse(created.stdout) as { metadata: { resourceVersion: string } })
    .metadata;
  const updated = { ...c.updated, metadata: { ...meta(c.updated), resourceVersion } };
  return kubectl(["replace", "--dry-run=server", "-f", "-"], JSON.stringify(updated));
}

beforeAll(async () => {
  await installCrds(cluster.kubectl);
  ns = await cluster.createNamespace("api-validation");
  const dryRunCreate = (o: Record<string, unknown>, i: number, prefix: string) => {
    const metadata = { ...(o["metadata"] as object), namespace: ns };
    if (!(o["metadata"] as { name: string }).name.startsWith("s".repeat(63))) {
      Object.assign(metadata, { name: `${prefix}-${i}` });
    }
    return kubectl(
      ["create", "--dry-run=server", "-o", "json", "-f", "-"],
      JSON.stringify({ ...o, metadata }),
    );
  };
  invalidResults.push(
    ...(await mapLimit(INVALID_OBJECTS, 8, (c, i) => dryRunCreate(c.object, i, "invalid"))),
  );
  validResults.push(...(await mapLimit(VALID_OBJECTS, 8, (c, i) => dryRunCreate(c.object, i, "valid"))));
  updateResults.push(...(await mapLimit(UPDATES, 8, (_, i) => tryUpdate(i))));
}, 180_000);

describe("apiserver and src/api agree", () => {
  INVALID_OBJECTS.forEach((c, i) => {
    test(`${c.kind.names.kind} with ${c.name}: both reject, the apiserver names ${c.field}`, () => {
      const result = invalidResults[i] as KubectlResult;
      expect(result.code).not.toBe(0);
      expect(blames(result.stderr, c.field)).toBe(true);
      expect(validateObject(c.kind, c.object).success).toBe(false);
    });
  });

  VALID_OBJECTS.forEach((c, i) => {
    test(`${c.kind.names.kind} ${c.name}: both accept and default it the same way`, () => {
      const result = validResults[i] as KubectlResult;
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const local = validateObject(c.kind, c.object);
      expect(local.success).toBe(true);
      if (!local.success) return;
      const stored = JSON.parse(result.stdout) as { spec: unknown };
      expect(stored.spec).toEqual((local.value as { spec: unknown }).spec);
    });
  });

  UPDATES.forEach((c, i) => {
    test(`update "${c.name}": both ${c.field ? `reject it at ${c.field}` : "accept it"}`, () => {
      const result = updateResults[i] as KubectlResult;
      const local = validateUpdate(c.kind, c.old, c.updated);
      if (c.field) {
        expect(result.code).not.toBe(0);
        expect(blames(result.stderr, c.field)).toBe(true);
        const issue = local.find((i) => i.path === c.field);
        // Transition rules are CEL on both sides, so even the wording agrees.
        expect(result.stderr).toContain(`${c.field}: Invalid value: "object": ${issue?.message}`);
      } else {
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(local).toEqual([]);
      }
    });
  });
});

describe("what a user sees", () => {
  test(
    "every example passes server-side validation",
    async () => {
      // The examples name agentland-sandboxes; this test's own namespace stands in for it.
      const examples = ["agent-runtime.yaml", "sandbox-pool.yaml", "code-interpreter.yaml"].map((f) => {
        const doc = Bun.YAML.parse(readFileSync(join(MANIFESTS_DIR, "examples", f), "utf8")) as {
          metadata: Record<string, unknown>;
        };
        return { ...doc, metadata: { ...doc.metadata, namespace: ns } };
      });
      const applied = await kubectl(
        ["apply", "--dry-run=server", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: examples }),
      );
      expect(applied.stderr).toBe("");
      expect(applied.code).toBe(0);
      expect(applied.stdout.match(/created \(server dry run\)/g)?.length).toBe(3);
    },
    KUBECTL_TIMEOUT,
  );

  test(
    "the stored CRDs are exactly what src/api generates (the YAML round-trips through kubectl)",
    async () => {
      for (const kind of ALL_KINDS) {
        const result = await kubectl(["get", "crd", crdName(kind), "-o", "json"]);
        expect(result.code).toBe(0);
        const stored = JSON.parse(result.stdout) as { spec: { versions: unknown[]; names: unknown } };
        const generated = buildCrd(kind);
        expect(stored.spec.names).toEqual(generated.spec.names);
        expect(stored.spec.versions).toEqual(generated.spec.versions);
      }
    },
    KUBECTL_TIMEOUT,
  );

  test(
    "kubectl get codei,sbxp shows phase, readiness, pod and pool counts",
    async () => {
      const ci = {
        apiVersion: "agentland.fl0rencess720.app/v1alpha1",
        kind: "CodeInterpreter",
        metadata: { name: "columns", namespace: ns },
        spec: {},
      };
      const pool = {
        apiVersion: "agentland.fl0rencess720.app/v1alpha1",
        kind: "SandboxPool",
        metadata: { name: "columns", namespace: ns },
        spec: { replicas: 3, sandboxTemplate: { image: "agentland/code-interpreter:0.1.0" } },
      };
      const created = await kubectl(
        ["create", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: [ci, pool] }),
      );
      expect(created.stderr).toBe("");
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const ready = {
        type: "Ready",
        status: "True",
        reason: "PodReady",
        message: "",
        lastTransitionTime: now,
      };
      const ciStatus = { status: { phase: "Ready", podName: "columns-pod", conditions: [ready] } };
      const poolStatus = { status: { replicas: 3, readyReplicas: 2, availableReplicas: 1 } };
      for (const [resource, patch] of [
        ["codeinterpreter/columns", ciStatus],
        ["sandboxpool/columns", poolStatus],
      ] as const) {
        const r = await kubectl([
          "patch",
          "-n",
          ns,
          resource,
          "--subresource=status",
          "--type=merge",
          "-p",
          JSON.stringify(patch),
        ]);
        expect(r.stderr).toBe("");
      }
      const table = await kubectl(["get", "-n", ns, "codei,sbxp", "columns"]);
      expect(table.code).toBe(0);
      const lines = table.stdout.split("\n").map((l) => l.trim().split(/\s+/));
      expect(lines[0]).toEqual(["NAME", "PHASE", "READY", "POD", "MODE", "AGE"]);
      expect(lines[1]?.slice(1, 5)).toEqual(["Ready", "True", "columns-pod", "PoolPreferred"]);
      const poolHeader = lines.findIndex((l) => l[0] === "NAME" && l.includes("DESIRED"));
      expect(lines[poolHeader]).toEqual(["NAME", "DESIRED", "CURRENT", "READY", "AVAILABLE", "AGE"]);
      expect(lines[poolHeader + 1]?.slice(1, 5)).toEqual(["3", "3", "2", "1"]);
    },
    KUBECTL_TIMEOUT,
  );

  test(
    "kubectl explain codeinterpreter.spec.provisioning shows the field descriptions",
    async () => {
      const result = await kubectl(["explain", "codeinterpreter.spec.provisioning"]);
      expect(result.code).toBe(0);
      const text = result.stdout.replace(/\s+/g, " ");
      expect(text).toContain("How the session gets its sandbox: directly, or from a warm SandboxPool.");
      expect(text).toContain("enum: Direct, PoolPreferred, PoolRequired");
      expect(text).toContain("PoolRequired only takes from a pool and waits until one is free.");
      expect(text).toContain("The SandboxPool to take from.");
    },
    KUBECTL_TIMEOUT,
  );

  test(
    "kubectl explain describes every kind",
    async () => {
      for (const kind of ALL_KINDS) {
        const result = await kubectl(["explain", kind.names.plural]);
        expect(result.code).toBe(0);
        expect(result.stdout.replace(/\s+/g, " ")).toContain(kind.description);
      }
    },
    KUBECTL_TIMEOUT,
  );

  test(
    "kubectl get agentland lists all six kinds; short names work",
    async () => {
      const objects = [...VALID_OBJECTS]
        .filter((c, i, all) => all.findIndex((d) => d.kind === c.kind) === i)
        .map((c) => ({
          ...c.object,
          metadata: { name: `listed-${c.kind.names.shortNames[0]}`, namespace: ns },
        }));
      expect(objects.length).toBe(6);
      const created = await kubectl(
        ["create", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
      );
      expect(created.stderr).toBe("");
      const listed = await kubectl(["get", "agentland", "-n", ns, "-o", "name"]);
      for (const kind of ALL_KINDS) {
        expect(listed.stdout).toContain(
          `${kind.names.singular}.${kind.names.group}/listed-${kind.names.shortNames[0]}`,
        );
      }
      const short = await kubectl([
        "get",
        "-n",
        ns,
        ALL_KINDS.map((k) => k.names.shortNames[0]).join(","),
        "-o",
        "name",
      ]);
      expect(short.code).toBe(0);
      expect(short.stdout.split("\n").filter((l) => l.includes("/listed-")).length).toBe(6);
    },
    KUBECTL_TIMEOUT,
  );

  test(
    "kubectl scale resizes a SandboxPool through the scale subresource",
    async () => {
      const pool = {
        apiVersion: "agentland.fl0rencess720.app/v1alpha1",
        kind: "SandboxPool",
        metadata: { name: "scaled", namespace: ns },
        spec: { sandboxTemplate: { image: "agentland/code-interpreter:0.1.0" } },
      };
      expect((await kubectl(["create", "-f", "-"], JSON.stringify(pool))).code).toBe(0);
      const scaled = await kubectl(["scale", "-n", ns, "sbxp/scaled", "--replicas=4"]);
      expect(scaled.stderr).toBe("");
      const replicas = await kubectl(["get", "-n", ns, "sbxp/scaled", "-o", "jsonpath={.spec.replicas}"]);
      expect(replicas.stdout).toBe("4");
      const negative = await kubectl(["scale", "-n", ns, "sbxp/scaled", "--replicas=1001"]);
      expect(negative.code).not.toBe(0);
    },
    KUBECTL_TIMEOUT,
  );
});
