import { describe, expect, test } from "bun:test";
import type { Pod } from "../render/render-pod";
import { restrictedViolations } from "../render/restricted-profile";
import {
  API,
  apply,
  eventually,
  kubectl,
  kubectlJson,
  type Listed,
  list,
  template,
  useControllers,
} from "./testing/controller-fixture";

const env = useControllers("ctl-sbx");

const sandbox = (name: string, tmpl = template()) => ({
  apiVersion: API,
  kind: "Sandbox",
  metadata: { name, namespace: env.ns },
  spec: { sandboxTemplate: tmpl },
});

const getPod = (name: string) => kubectlJson<Pod>(["-n", env.ns, "get", "pod", name]);

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
      const s = await kubectlJson<Listed>(["-n", env.ns, "get", "sandbox", "one"]);
      return s.status?.podName ? s.status : undefined;
    });
    expect(status.podName).toBe("one");
    expect((await list(env.ns, "pods", "agentland.fl0rencess720.app/sandbox=one")).length).toBe(1);
  });

  test("a pod deleted out from under an unclaimed sandbox is recreated", async () => {
    await apply(sandbox("phoenix"));
    const first = await eventually("the pod", () => getPod("phoenix"));
    await kubectl(["-n", env.ns, "delete", "pod", "phoenix", "--wait=false"]);
    const second = await eventually("a new pod", async () => {
      const p = await getPod("phoenix");
      return p.metadata?.uid !== first.metadata?.uid ? p : undefined;
    });
    expect(second.metadata?.ownerReferences?.[0]?.name).toBe("phoenix");
  });
});
