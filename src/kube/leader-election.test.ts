import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { KubeClient } from "./kube-client";
import { createKubeClient } from "./kube-client";
import { createLeaderElector, type LeaderElector, leaderIdentity, microTime } from "./leader-election";
import { LEASES } from "./resources";
import { eventually, kubeTestEnv, proxied } from "./testdata/kube-test-env";

const env = kubeTestEnv();
const timing = { leaseDurationMs: 4_000, renewDeadlineMs: 2_500, retryPeriodMs: 400 };
const { proxy, config: viaProxy } = proxied(env.config);
afterAll(() => proxy.stop());

interface Candidate {
  readonly elector: LeaderElector;
  /** [start, end) of each leadership term, in ms of performance.now(). */
  readonly terms: { start: number; end?: number; signal: AbortSignal }[];
}

function candidate(ns: string, client: KubeClient, id: string, lease = "lock"): Candidate {
  const terms: Candidate["terms"] = [];
  const elector = createLeaderElector({
    client,
    namespace: ns,
    name: lease,
    identity: leaderIdentity(id),
    ...timing,
    onStartedLeading: (signal) => terms.push({ start: performance.now(), signal }),
    onStoppedLeading: () => {
      const last = terms.at(-1);
      if (last) last.end = performance.now();
    },
  });
  elector.start();
  return { elector, terms };
}

const leading = (c: Candidate) => c.terms.length > 0 && c.terms.at(-1)?.end === undefined;

/** No instant at which both candidates were in a term. */
function overlaps(a: Candidate, b: Candidate): boolean {
  const end = (t: { end?: number }) => t.end ?? Number.POSITIVE_INFINITY;
  return a.terms.some((x) => b.terms.some((y) => x.start < end(y) && y.start < end(x)));
}

test("identity is the pod name plus a random suffix; MicroTime has six fractional digits", () => {
  expect(leaderIdentity("agentcore-7f9c-x2")).toMatch(/^agentcore-7f9c-x2_[0-9a-f]{8}$/);
  expect(leaderIdentity("p")).not.toBe(leaderIdentity("p"));
  expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe("2026-01-02T03:04:05.678000Z");
});

test("two electors on one Lease: exactly one leads at any time; a clean release hands over at once", async () => {
  const ns = await env.cluster.createNamespace("lease-two");
  const a = candidate(ns, env.client(), "a");
  const b = candidate(ns, env.client(), "b");
  let both = 0;
  const sampler = setInterval(() => {
    if (a.elector.isLeader() && b.elector.isLeader()) both++;
  }, 10);
  await eventually("someone leads", () => leading(a) || leading(b));
  await Bun.sleep(3 * timing.leaseDurationMs);
  const [leader, follower] = leading(a) ? [a, b] : [b, a];
  expect(leader.terms).toHaveLength(1);
  expect(follower.terms).toHaveLength(0);
  const lease = await env.client().resource(LEASES).get("lock", { namespace: ns });
  expect(lease.spec?.leaseDurationSeconds).toBe(4);

  const released = performance.now();
  await leader.elector.stop();
  expect(leader.terms[0]?.signal.aborted).toBe(true);
  await eventually("follower takes over", () => leading(follower), timing.leaseDurationMs);
  // Far sooner than waiting out the lease: the released Lease has no holder.
  expect((follower.terms[0]?.start ?? 0) - released).toBeLessThan(timing.leaseDurationMs);
  const after = await env.client().resource(LEASES).get("lock", { namespace: ns });
  expect(after.spec?.leaseTransitions).toBe(1);
  clearInterval(sampler);
  await follower.elector.stop();
  expect(both).toBe(0);
  expect(overlaps(a, b)).toBe(false);
  const final = await env.client().resource(LEASES).get("lock", { namespace: ns });
  expect(final.spec?.holderIdentity).toBe("");
}, 60_000);

test("a SIGKILLed leader (no release) is replaced within the lease duration of the follower's last observation", async () => {
  const ns = await env.cluster.createNamespace("lease-kill");
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "testdata", "elector-main.ts")], {
    stdin: new TextEncoder().encode(
      JSON.stringify({
        kubeconfig: env.cluster.kubeconfig,
        namespace: ns,
        name: "lock",
        identity: "doomed_1",
        ...timing,
      }),
    ),
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  const firstLine = new TextDecoder().decode((await reader.read()).value);
  expect(firstLine.trim()).toBe("LEADING");
  const follower = candidate(ns, env.client(), "survivor");
  await Bun.sleep(2 * timing.leaseDurationMs);
  expect(leading(follower)).toBe(false);
  const killed = performance.now();
  child.kill("SIGKILL");
  await child.exited;
  await eventually("follower takes over", () => leading(follower), 3 * timing.leaseDurationMs);
  const took = (follower.terms[0]?.start ?? 0) - killed;
  // The dead leader renewed at most one retry period before the kill; the follower saw that renewal at most
  // one (jittered) retry period later and then waits a full lease duration of its own clock.
  // Never early (the leader might only be slow), and not much later than one lease duration.
  expect(took).toBeGreaterThanOrEqual(timing.leaseDurationMs - 2 * timing.retryPeriodMs - 300);
  expect(took).toBeLessThan(timing.leaseDurationMs + 2.4 * timing.retryPeriodMs + 2_000);
  console.error(
    `leader SIGKILLed; follower took over after ${Math.round(took)} ms (lease ${timing.leaseDurationMs} ms)`,
  );
  const lease = await env.client().resource(LEASES).get("lock", { namespace: ns });
  expect(lease.spec?.holderIdentity).toStartWith("survivor_");
  await follower.elector.stop();
}, 60_000);

test("a leader whose renewals fail past the renew deadline stops leading before anyone else can start", async () => {
  const ns = await env.cluster.createNamespace("lease-cut");
  const cut = candidate(ns, createKubeClient(viaProxy, { qps: 0 }), "cut-off");
  await eventually("cut-off leads", () => leading(cut));
  const other = candidate(ns, env.client(), "other");
  const failedAt = performance.now();
  proxy.fail({ status: 503, count: 1_000_000, match: (r) => r.path.includes(`/namespaces/${ns}/leases`) });
  try {
    await eventually("cut-off stops leading", () => !leading(cut), 3 * timing.renewDeadlineMs);
    expect(cut.terms[0]?.signal.aborted).toBe(true);
    expect((cut.terms[0]?.end ?? 0) - failedAt).toBeLessThan(
      timing.renewDeadlineMs + 2 * timing.retryPeriodMs + 1_000,
    );
    await eventually("other takes over", () => leading(other), 3 * timing.leaseDurationMs);
    expect(overlaps(cut, other)).toBe(false);
  } finally {
    proxy.clearFaults();
  }
  await Promise.all([cut.elector.stop(), other.elector.stop()]);
}, 60_000);

test("a leader that sees another holder on the Lease steps down at once and does not take it back", async () => {
  const ns = await env.cluster.createNamespace("lease-usurped");
  const a = candidate(ns, env.client(), "a");
  await eventually("a leads", () => leading(a));
  const leases = env.client().resource(LEASES);
  const lease = await leases.get("lock", { namespace: ns });
  await leases.update({ ...lease, spec: { ...lease.spec, holderIdentity: "intruder" } });
  const usurped = performance.now();
  await eventually("a steps down", () => !leading(a), timing.renewDeadlineMs);
  // Noticed at its next renewal, not at the renew deadline.
  expect((a.terms[0]?.end ?? 0) - usurped).toBeLessThan(timing.renewDeadlineMs);
  expect((await leases.get("lock", { namespace: ns })).spec?.holderIdentity).toBe("intruder");
  await a.elector.stop();
}, 30_000);
