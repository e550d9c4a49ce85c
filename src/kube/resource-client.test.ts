import { beforeAll, expect, test } from "bun:test";
import { isAlreadyExists, isConflict, isInvalid, isNotFound, KubeError } from "./kube-error";
import { CONFIG_MAPS } from "./resources";
import { eventually, kubeTestEnv } from "./testdata/kube-test-env";
import { ensureWidgetCrd, WIDGETS } from "./testdata/widget-crd";

const env = kubeTestEnv();
const client = env.client();
const configMaps = client.resource(CONFIG_MAPS);
let ns = "";
beforeAll(async () => {
  ns = await env.cluster.createNamespace("kube-resource");
  await ensureWidgetCrd(client);
});

test("create, get, update, patch (merge, JSON, apply) and delete a ConfigMap", async () => {
  const created = await configMaps.create(
    { metadata: { name: "crud" }, data: { a: "1" } },
    { namespace: ns },
  );
  expect(created.metadata?.uid).toBeString();
  expect(typeof created.metadata?.creationTimestamp).toBe("string");
  const got = await configMaps.get("crud", { namespace: ns });
  const updated = await configMaps.update({ ...got, data: { a: "2" } });
  expect(updated.data).toEqual({ a: "2" });
  await configMaps.patch("crud", { namespace: ns, type: "merge", patch: { data: { b: "3" } } });
  await configMaps.patch("crud", {
    namespace: ns,
    type: "json",
    patch: [{ op: "add", path: "/data/c", value: "4" }],
  });
  const applied = await configMaps.patch("crud", {
    namespace: ns,
    type: "apply",
    fieldManager: "kube-test",
    patch: { metadata: { name: "crud" }, data: { d: "5" } },
  });
  expect(applied.data).toEqual({ a: "2", b: "3", c: "4", d: "5" });
  expect(
    applied.metadata?.managedFields?.some((f) => f.manager === "kube-test" && f.operation === "Apply"),
  ).toBe(true);
  await configMaps.delete("crud", { namespace: ns, propagationPolicy: "Background" });
  const gone = await configMaps.get("crud", { namespace: ns }).catch((e: unknown) => e);
  expect(isNotFound(gone)).toBe(true);
});

test("two writers with the same resourceVersion: exactly one wins, the loser gets isConflict", async () => {
  const writers = [env.client(), env.client()].map((c) => c.resource(CONFIG_MAPS));
  for (let round = 0; round < 20; round++) {
    const name = `race-${round}`;
    const base = await configMaps.create({ metadata: { name }, data: { v: "base" } }, { namespace: ns });
    const results = await Promise.allSettled(
      writers.map((w, i) => w.update({ ...base, data: { v: `writer-${i}` } })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isConflict(lost[0]?.reason)).toBe(true);
    const final = await configMaps.get(name, { namespace: ns });
    expect(final.data?.["v"]).toBe((won[0] as PromiseFulfilledResult<typeof base>).value.data?.["v"]);
  }
});

test("a delete whose resourceVersion precondition is stale is a Conflict and deletes nothing", async () => {
  const first = await configMaps.create({ metadata: { name: "precondition" } }, { namespace: ns });
  await configMaps.patch("precondition", { namespace: ns, type: "merge", patch: { data: { x: "y" } } });
  const err = await configMaps
    .delete("precondition", {
      namespace: ns,
      preconditions: { resourceVersion: first.metadata?.resourceVersion ?? "" },
    })
    .catch((e: unknown) => e);
  expect(isConflict(err)).toBe(true);
  await configMaps.get("precondition", { namespace: ns });
  await configMaps.delete("precondition", {
    namespace: ns,
    preconditions: { uid: first.metadata?.uid ?? "" },
  });
});

test("list pages with limit/continue; listAll returns every item of one snapshot", async () => {
  await Promise.all(
    Array.from({ length: 25 }, (_, i) =>
      configMaps.create({ metadata: { name: `page-${i}`, labels: { set: "paging" } } }, { namespace: ns }),
    ),
  );
  const first = await configMaps.list({ namespace: ns, labelSelector: "set=paging", limit: 10 });
  expect(first.items).toHaveLength(10);
  expect(first.continue).toBeString();
  const second = await configMaps.list({
    namespace: ns,
    labelSelector: "set=paging",
    limit: 10,
    continue: first.continue,
  });
  expect(second.items).toHaveLength(10);
  const all = await configMaps.listAll({ namespace: ns, labelSelector: "set=paging", limit: 7 });
  expect(all.items.map((c) => c.metadata?.name).sort()).toEqual(
    Array.from({ length: 25 }, (_, i) => `page-${i}`).sort(),
  );
  expect(all.resourceVersion).toMatch(/^\d+$/);
});

test("errors carry the apiserver's reason, code and field causes", async () => {
  await configMaps.create({ metadata: { name: "dup" } }, { namespace: ns });
  const dup = await configMaps
    .create({ metadata: { name: "dup" } }, { namespace: ns })
    .catch((e: unknown) => e);
  expect(isAlreadyExists(dup)).toBe(true);
  expect(isConflict(dup)).toBe(false);
  const widgets = client.resource(WIDGETS);
  const invalid = await widgets
    .create({ metadata: { name: "bad" }, spec: { size: -1 } }, { namespace: ns })
    .catch((e: unknown) => e);
  expect(isInvalid(invalid)).toBe(true);
  expect(invalid).toBeInstanceOf(KubeError);
  expect((invalid as KubeError).code).toBe(422);
  expect((invalid as KubeError).causes.map((c) => c.field)).toContain("spec.size");
  const missing = await configMaps.get("nope", { namespace: ns }).catch((e: unknown) => e);
  expect(missing).toMatchObject({
    code: 404,
    reason: "NotFound",
    details: { name: "nope", kind: "configmaps" },
  });
});

test("custom resources: the status subresource is written separately from spec", async () => {
  const widgets = client.resource(WIDGETS);
  const w = await widgets.create({ metadata: { name: "w1" }, spec: { size: 3 } }, { namespace: ns });
  expect(w.kind).toBe("Widget");
  // Status sent to the main resource is dropped; spec sent to /status is dropped.
  const afterMain = await widgets.update({ ...w, status: { phase: "Ignored" } });
  expect(afterMain.status).toBeUndefined();
  const afterStatus = await widgets.updateStatus({
    ...afterMain,
    spec: { size: 99 },
    status: { phase: "Ready" },
  });
  expect(afterStatus.status?.phase).toBe("Ready");
  expect(afterStatus.spec?.size).toBe(3);
  const patched = await widgets.patchStatus("w1", {
    namespace: ns,
    type: "merge",
    patch: { status: { observedSize: 3 } },
  });
  expect(patched.status).toEqual({ phase: "Ready", observedSize: 3 });
  expect((await widgets.getStatus("w1", { namespace: ns })).status?.observedSize).toBe(3);
  const applied = await widgets.patchStatus("w1", {
    namespace: ns,
    type: "apply",
    fieldManager: "widget-controller",
    force: true,
    patch: { metadata: { name: "w1" }, status: { phase: "Applied" } },
  });
  expect(applied.status?.phase).toBe("Applied");
});

test("a namespaced call without a namespace fails before sending", async () => {
  const err = await configMaps.create({ metadata: { name: "x" } }).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 0, reason: "BadRequest" });
});

test("delete propagation: Orphan keeps dependents (owner reference removed), Background lets the GC delete them", async () => {
  const owner = (name: string) => configMaps.create({ metadata: { name } }, { namespace: ns });
  const dependent = (name: string, o: Awaited<ReturnType<typeof owner>>) =>
    configMaps.create(
      {
        metadata: {
          name,
          ownerReferences: [
            { apiVersion: "v1", kind: "ConfigMap", name: o.metadata?.name ?? "", uid: o.metadata?.uid ?? "" },
          ],
        },
      },
      { namespace: ns },
    );
  const orphaner = await owner("orphan-owner");
  await dependent("orphan-dependent", orphaner);
  await configMaps.delete("orphan-owner", { namespace: ns, propagationPolicy: "Orphan" });
  await eventually("owner gone, dependent released", async () => {
    const dep = await configMaps.get("orphan-dependent", { namespace: ns });
    return (dep.metadata?.ownerReferences ?? []).length === 0;
  });
  const cascader = await owner("cascade-owner");
  await dependent("cascade-dependent", cascader);
  await configMaps.delete("cascade-owner", { namespace: ns, propagationPolicy: "Background" });
  await eventually("dependent collected", () =>
    configMaps.get("cascade-dependent", { namespace: ns }).then(
      () => false,
      (e: unknown) => isNotFound(e),
    ),
  );
}, 60_000);
