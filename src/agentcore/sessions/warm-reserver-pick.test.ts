import { expect, test } from "bun:test";
import type { Sandbox } from "../../api/sandbox";
import { systemClock } from "../../kube/clock";
import type { SessionObject } from "./session-kinds";
import { createWarmReserver } from "./warm-reservation";

const sandbox = (name: string, resourceVersion: string) =>
  ({ metadata: { name, namespace: "ns", resourceVersion } }) as unknown as Sandbox;

const session = {
  apiVersion: "agentland.fl0rencess720.app/v1alpha1",
  kind: "CodeInterpreter",
  metadata: { name: "ci-x", namespace: "ns" },
  spec: { provisioning: { mode: "PoolPreferred", poolRef: { name: "warm" } } },
} as unknown as SessionObject;

test("a version this replica picked is not picked again while its watch still shows it; the next version is", () => {
  let warm = [sandbox("a", "1"), sandbox("b", "1")];
  const reserver = createWarmReserver({
    client: { resource: () => ({}) } as never,
    sandboxes: { warm: () => warm, poolSeen: () => true },
    codeInterpreterPool: "warm",
    codeInterpreterImage: "korokd",
    clock: systemClock,
    random: () => 0,
    log: () => undefined,
  });
  expect(reserver.pick(session)?.sandbox.metadata.name).toBe("a");
  // The watch lags: `a` still looks warm at the version just picked (reserved, or refused meanwhile).
  expect(reserver.pick(session)?.sandbox.metadata.name).toBe("b");
  expect(reserver.pick(session)).toBeUndefined();
  // The watch caught up with a new version of `a` that is warm again (its reservation never landed and
  // it changed otherwise): it is a candidate once more.
  warm = [sandbox("a", "2"), sandbox("b", "1")];
  expect(reserver.pick(session)?.sandbox.metadata.name).toBe("a");
});
