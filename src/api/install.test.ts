/**
 * `kubectl apply -f manifests` on a cluster that has never seen agentland. The shared test cluster may already
 * have agentland installed by other tests, so this test starts a private control plane of its own (a few
 * seconds; no node, so pods stay Pending — they are still admitted, which proves they meet Pod Security).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { ClusterInfo } from "../../e2e/cluster/cluster-state";
import { clusterDown, clusterUp } from "../../e2e/cluster/control-plane";
import { CRD_FILE_PREFIX } from "./crd/render-crds";
import { DEFAULT_SANDBOX_NAMESPACE, SYSTEM_NAMESPACE } from "./install-names";
import { type Kubectl, kubectlFor } from "./testing/kubectl";
import { MANIFESTS_DIR } from "./write-crds";

const NAME = `api-install-${process.pid}`;
/** kubectl against a control plane that has just started (cold discovery, many objects) is slow. */
const TIMEOUT = 120_000;
let cluster: ClusterInfo;
let kubectl: Kubectl;

beforeAll(async () => {
  cluster = await clusterUp({ name: NAME, withNode: false, log: () => {} });
  kubectl = kubectlFor(cluster);
}, 300_000);

afterAll(async () => {
  await clusterDown(NAME);
}, 60_000);

/** `kind/namespace/name → resourceVersion` of every object the manifests define. */
async function resourceVersions(): Promise<Record<string, string>> {
  const result = await kubectl(["get", "-f", MANIFESTS_DIR, "-o", "json"]);
  expect(result.stderr).toBe("");
  const list = JSON.parse(result.stdout) as {
    items: { kind: string; metadata: { name: string; namespace?: string; resourceVersion: string } }[];
  };
  return Object.fromEntries(
    list.items.map((o) => [
      `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`,
      o.metadata.resourceVersion,
    ]),
  );
}

describe("installing agentland", () => {
  test(
    "the cluster starts without agentland",
    async () => {
      const crds = await kubectl(["get", "crd", "-o", "name"]);
      expect(crds.stdout).not.toContain("agentland");
    },
    TIMEOUT,
  );

  test(
    "the cluster-scoped manifests (CRDs, namespaces) pass server-side dry-run on the empty cluster",
    async () => {
      const files = readdirSync(MANIFESTS_DIR).filter(
        (f) => f.startsWith(CRD_FILE_PREFIX) || f === "10-namespaces.yaml",
      );
      const result = await kubectl([
        "apply",
        "--dry-run=server",
        ...files.flatMap((f) => ["-f", join(MANIFESTS_DIR, f)]),
      ]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    },
    TIMEOUT,
  );

  test(
    "kubectl apply -f manifests applies everything, in one go, without a warning",
    async () => {
      const result = await kubectl(["apply", "-f", MANIFESTS_DIR]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const created = result.stdout.trim().split("\n");
      expect(created.every((line) => line.endsWith(" created"))).toBe(true);
      expect(Object.keys(await resourceVersions()).length).toBe(created.length);
    },
    TIMEOUT,
  );

  test(
    "then every manifest passes server-side dry-run",
    async () => {
      const result = await kubectl(["apply", "--dry-run=server", "-f", MANIFESTS_DIR]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    },
    TIMEOUT,
  );

  test(
    "re-applying is a no-op: no object changes, kubectl diff is empty",
    async () => {
      const before = await resourceVersions();
      const again = await kubectl(["apply", "-f", MANIFESTS_DIR]);
      expect(again.code).toBe(0);
      expect(await resourceVersions()).toEqual(before);
      const diff = await kubectl(["diff", "-f", MANIFESTS_DIR]);
      expect(diff.stdout).toBe("");
      expect(diff.code).toBe(0);
    },
    TIMEOUT,
  );

  test(
    "kubectl apply -k manifests describes the same objects and changes nothing",
    async () => {
      const before = await resourceVersions();
      const result = await kubectl(["apply", "-k", MANIFESTS_DIR]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout.trim().split("\n").length).toBe(Object.keys(before).length);
      expect(await resourceVersions()).toEqual(before);
    },
    TIMEOUT,
  );

  test(
    "the control-plane pods are admitted under the restricted Pod Security Standard",
    async () => {
      let pods: string[] = [];
      for (let attempt = 0; attempt < 60 && pods.length < 4; attempt++) {
        const result = await kubectl(["get", "pods", "-n", SYSTEM_NAMESPACE, "-o", "name"]);
        pods = result.stdout.split("\n").filter(Boolean);
        if (pods.length < 4) await Bun.sleep(250);
      }
      expect(pods.length).toBe(4);
      const events = await kubectl([
        "get",
        "events",
        "-n",
        SYSTEM_NAMESPACE,
        "--field-selector=reason=FailedCreate",
      ]);
      expect(events.stdout).toBe("");
    },
    TIMEOUT,
  );

  test(
    "the examples apply once agentland is installed",
    async () => {
      const result = await kubectl(["apply", "-f", join(MANIFESTS_DIR, "examples")]);
      expect(result.stderr).toBe("");
      expect(result.stdout.match(/ created$/gm)?.length).toBe(3);
      const listed = await kubectl(["get", "agentland", "-n", DEFAULT_SANDBOX_NAMESPACE, "-o", "name"]);
      expect(listed.stdout.split("\n").filter(Boolean).length).toBe(3);
    },
    TIMEOUT,
  );
});
