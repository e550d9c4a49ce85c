import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Pod } from "../render/render-pod";
import { restrictedViolations } from "../render/restricted-profile";
import {
  API,
  apply,
  controllerNamespace,
  eventually,
  kubectl,
  kubectlJson,
  type Listed,
  list,
  type RunningControllers,
  startControllers,
  template,
} from "./testing/controller-fixture";

let ns: string;
let controllers: RunningControllers;

beforeAll(async () => {
  ns = await controllerNamespace("ctl-sbx");
  controllers = await startControllers(ns);
}, 60_000);
afterAll(async () => {
  await controllers?.stop();
}, 60_000);

const sandbox = (name: string, tmpl = template()) => ({
  apiVersion: API,
  kind: "Sandbox",
  metadata: { name, namespace: ns },
  spec: { sandboxTemplate: tmpl },
});

const getPod = (name: string) => kubectlJson<Pod>(["-n", ns, "get", "pod", name]);

describe("Sandbox controller", () => {
  test("a Sandbox gets exactly one hardened pod, admitted under the restricted Pod Security Standard", async () => {
    await apply(sandbox("one"));
    const pod = await eventually("the pod", () => getPod("one"));
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "Sandbox",
      name: "one",
      controller: true,
    });
    const status = await eventually("the sandbox status", async () => {
      const s = await kubectlJson<Listed>(["-n", ns, "get", "sandbox", "one"]);
      return s.status?.podName ? s.status : undefined;
    });
    expect(status.podName).toBe("one");
    expect((await list(ns, "pods", "agentland.fl0rencess720.app/sandbox=one")).length).toBe(1);
  });

  test("a pod deleted out from under an unclaimed sandbox is recreated", async () => {
    await apply(sandbox("phoenix"));
    const first = await eventually("the pod", () => getPod("phoenix"));
    await kubectl(["-n", ns, "delete", "pod", "phoenix", "--wait=false"]);
    const second = await eventually("a new pod", async () => {
      const p = await getPod("phoenix");
      return p.metadata?.uid !== first.metadata?.uid ? p : undefined;
    });
    expect(second.metadata?.ownerReferences?.[0]?.name).toBe("phoenix");
  });
});
