import { expect, test } from "bun:test";
import { isReservedKey, LABELS } from "./reserved-keys";

test("agentland's own labels are reserved", () => {
  for (const key of Object.values(LABELS)) {
    if (key.startsWith("app.kubernetes.io/")) continue;
    expect([key, isReservedKey(key)]).toEqual([key, true]);
  }
  expect(isReservedKey("sub.agentland.fl0rencess720.app/x")).toBe(true);
});

test("Kubernetes' prefixes and their subdomains are reserved, app.kubernetes.io is not", () => {
  for (const key of [
    "kubernetes.io/hostname",
    "node.kubernetes.io/x",
    "k8s.io/x",
    "pod-security.kubernetes.io/enforce",
  ]) {
    expect([key, isReservedKey(key)]).toEqual([key, true]);
  }
  for (const key of [
    "app.kubernetes.io/name",
    "team",
    "example.com/kubernetes.io",
    "notkubernetes.io/x",
    "k8s.iox/y",
  ]) {
    expect([key, isReservedKey(key)]).toEqual([key, false]);
  }
});
