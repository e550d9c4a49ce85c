import { describe, expect, test } from "bun:test";
import type { CodeInterpreter } from "../../api/code-interpreter";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS, SANDBOXES } from "../../api/resource-types";
import { PODS } from "../../kube/resources";
import {
  API,
  adminClient,
  apply,
  eventually,
  kubectl,
  pool,
  template,
  useControllers,
} from "./testing/controller-fixture";

const env = useControllers("ctl-ci");
const client = adminClient();
const sessions = client.resource(CODE_INTERPRETERS);
const claims = client.resource(SANDBOX_CLAIMS);
const sandboxes = client.resource(SANDBOXES);
const pods = client.resource(PODS);

const interpreter = (name: string, spec: Record<string, unknown> = {}) =>
  ({
    apiVersion: API,
    kind: "CodeInterpreter",
    metadata: { name, namespace: env.ns },
    spec,
  }) as unknown as CodeInterpreter;

async function phase(name: string, want: string, timeoutMs = 60_000): Promise<CodeInterpreter> {
  return eventually(
    `${name} ${want}`,
    async () => {
      const s = await sessions.get(name, { namespace: env.ns });
      return s.status?.phase === want ? s : undefined;
    },
    timeoutMs,
  );
}

describe("CodeInterpreter controller", () => {
  test("a CodeInterpreter becomes Ready on a real korokd pod and reports where it serves", async () => {
    await sessions.create(interpreter("korokd-session"), { namespace: env.ns });
    const s = await phase("korokd-session", "Ready", 90_000);
    const status = s.status ?? {};
    expect(status).toMatchObject({
      sandboxName: "korokd-session",
      claimName: "korokd-session",
      podName: "korokd-session",
      port: 1883,
    });
    expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "True",
      reason: "SandboxReady",
    });
    const created = Date.parse(s.metadata.creationTimestamp ?? "");
    expect(Date.parse(status.expiresAt ?? "") - created).toBe(2 * 3600 * 1000);
    expect(status.startTime).toBeDefined();
    // korokd answers /health only once it has loaded the JWKS mounted from the namespace's ConfigMap.
    const health = await fetch(`http://${status.podIP}:1883/health`, { signal: AbortSignal.timeout(5_000) });
    expect(health.status).toBe(200);
  }, 120_000);

  test("Direct mode creates the Sandbox itself, with no claim", async () => {
    await sessions.create(
      interpreter("direct", { sandboxTemplate: template(), provisioning: { mode: "Direct" } }),
      { namespace: env.ns },
    );
    const s = await phase("direct", "Ready");
    expect(s.status?.sandboxName).toBe("direct");
    expect(s.status?.claimName).toBeUndefined();
    const sbx = await sandboxes.get("direct", { namespace: env.ns });
    expect(sbx.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "CodeInterpreter",
      name: "direct",
      controller: true,
    });
  }, 90_000);

  test("without provisioning settings it takes a warm sandbox from the configured code-interpreter pool", async () => {
    await apply(pool(env.ns, "code-interpreter", 1));
    await eventually(
      "pool ready",
      async () => {
        const sbx = (
          await sandboxes.list({
            namespace: env.ns,
            labelSelector: "agentland.fl0rencess720.app/pool=code-interpreter",
          })
        ).items;
        return sbx.some((x) => x.status?.phase === "Ready") ? true : undefined;
      },
      60_000,
    );
    await sessions.create(interpreter("pooled"), { namespace: env.ns });
    const s = await phase("pooled", "Ready");
    // The session mirrors its pre-adopted sandbox before the claim's status says how it was bound.
    const claim = await eventually("the claim bound", async () => {
      const c = await claims.get("pooled", { namespace: env.ns });
      return c.status?.conditions?.some((x) => x.type === "Bound" && x.status === "True") ? c : undefined;
    });
    expect(claim.spec.poolRef?.name).toBe("code-interpreter");
    expect(claim.status?.conditions?.find((c) => c.type === "Bound")?.reason).toBe("Adopted");
    expect(s.status?.sandboxName).not.toBe("pooled");
  }, 90_000);

  test("deleting a session cascades to claim, sandbox and pod, and nothing is left", async () => {
    await sessions.create(interpreter("cascade", { sandboxTemplate: template() }), { namespace: env.ns });
    const s = await phase("cascade", "Ready");
    await kubectl([
      "-n",
      env.ns,
      "delete",
      "codeinterpreter",
      "cascade",
      "--cascade=foreground",
      "--timeout=60s",
    ]);
    const selector = "agentland.fl0rencess720.app/session=cascade";
    await eventually(
      "nothing left",
      async () => {
        const [c, x, p] = await Promise.all([
          claims.list({ namespace: env.ns, labelSelector: selector }),
          sandboxes.list({ namespace: env.ns, labelSelector: selector }),
          pods.list({ namespace: env.ns, fieldSelector: `metadata.name=${s.status?.podName}` }),
        ]);
        return c.items.length + x.items.length + p.items.length === 0 ? true : undefined;
      },
      60_000,
    );
  }, 120_000);

  test("an unrunnable image fails the sandbox and the session with the reason", async () => {
    await sessions.create(
      interpreter("broken", {
        sandboxTemplate: template("agentland-fixtures/no-such-image:1"),
        provisioning: { mode: "Direct" },
      }),
      { namespace: env.ns },
    );
    const s = await phase("broken", "Failed");
    const ready = s.status?.conditions?.find((c) => c.type === "Ready");
    expect(ready?.status).toBe("False");
    expect(ready?.reason).toBe("ErrImageNeverPull");
    const sbx = await sandboxes.get("broken", { namespace: env.ns });
    expect(sbx.status?.phase).toBe("Failed");
    expect(sbx.status?.conditions?.[0]?.reason).toBe("ErrImageNeverPull");
  }, 90_000);

  test("a session whose pod is deleted after it served fails instead of silently losing its state", async () => {
    await sessions.create(interpreter("fragile", { sandboxTemplate: template() }), { namespace: env.ns });
    const s = await phase("fragile", "Ready");
    await pods.delete(s.status?.podName ?? "", { namespace: env.ns });
    const failed = await phase("fragile", "Failed");
    expect(failed.status?.conditions?.find((c) => c.type === "Ready")?.reason).toBe("PodDeleted");
    // And the sandbox did not quietly get a new pod.
    await Bun.sleep(1_000);
    const left = await pods.list({ namespace: env.ns, fieldSelector: `metadata.name=${s.status?.podName}` });
    expect(left.items.every((p) => p.metadata?.deletionTimestamp)).toBe(true);
  }, 90_000);
});
