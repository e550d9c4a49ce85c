/**
 * The 200-at-once scenario: grow the warm pool to N and wait until all N are available (watching the
 * machine's memory, and stopping short rather than pushing it into swapless OOM), then N clients, each
 * its own principal, ask for a new session and its first result at the same moment.
 */
import type { KubeClient } from "../../../src/kube/kube-client";
import { poolState, scalePool } from "./platform-probe";
import { machineMemoryMiB } from "./report";

export interface WarmUp {
  readonly reached: number;
  readonly ms: number;
  /** Lowest MemAvailable seen while the pool grew. */
  readonly minAvailableMiB: number;
  /** Why it stopped short of the target, if it did. */
  readonly stopped?: string;
}

export async function warmPoolTo(
  kube: KubeClient,
  target: { namespace: string; pool: string; replicas: number },
  limits: { timeoutMs: number; memoryFloorMiB: number },
  log: (line: string) => void,
): Promise<WarmUp> {
  const { namespace, pool, replicas } = target;
  const t0 = performance.now();
  await scalePool(kube, namespace, pool, replicas);
  let minAvailableMiB = machineMemoryMiB().available;
  let lastLog = 0;
  for (;;) {
    const { available } = await poolState(kube, namespace, pool);
    const mem = machineMemoryMiB().available;
    minAvailableMiB = Math.min(minAvailableMiB, mem);
    const ms = performance.now() - t0;
    if (available >= replicas) return { reached: available, ms, minAvailableMiB };
    const stop = (why: string) => ({ reached: available, ms, minAvailableMiB, stopped: why });
    if (mem < limits.memoryFloorMiB) {
      await scalePool(kube, namespace, pool, available);
      return stop(`MemAvailable fell to ${mem.toFixed(0)} MiB (floor ${limits.memoryFloorMiB} MiB)`);
    }
    if (ms > limits.timeoutMs)
      return stop(`only ${available}/${replicas} available after ${ms.toFixed(0)} ms`);
    if (ms - lastLog > 5_000) {
      lastLog = ms;
      log(
        `pool ${available}/${replicas} available after ${(ms / 1000).toFixed(0)} s, MemAvailable ${mem.toFixed(0)} MiB`,
      );
    }
    await Bun.sleep(250);
  }
}

export interface BurstResult {
  /** Per answered request: ms from the common start to its answer. */
  readonly answered: number[];
  readonly failures: string[];
  /** From the common start to the last answer (failed or not). */
  readonly lastAnswerMs: number;
  readonly sessions: string[];
  /** Session name → when its answer arrived (`performance.now()`, the session timeline's clock). */
  readonly answeredAt: ReadonlyMap<string, number>;
}

/** `keys.length` concurrent new-session runs, spread round-robin over the gateways like a load balancer. */
export async function newSessionBurst(
  gatewayUrls: readonly string[],
  keys: readonly string[],
  body: string,
  timeoutMs: number,
): Promise<BurstResult> {
  const answered: number[] = [];
  const failures: string[] = [];
  const sessions: string[] = [];
  const answeredAt = new Map<string, number>();
  const t0 = performance.now();
  let last = 0;
  await Promise.all(
    keys.map(async (key, i) => {
      const url = `${gatewayUrls[i % gatewayUrls.length]}/api/code-runner/run`;
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        const session = res.headers.get("x-agentland-session");
        if (session) {
          sessions.push(session);
          answeredAt.set(session, performance.now());
        }
        const ok = res.status === 200 && (JSON.parse(text) as { stdout?: string }).stdout === "2\n";
        if (ok) answered.push(performance.now() - t0);
        else failures.push(`${res.status} ${text.slice(0, 200)}`);
      } catch (err) {
        failures.push(String(err));
      } finally {
        last = Math.max(last, performance.now() - t0);
      }
    }),
  );
  return { answered, failures, lastAnswerMs: last, sessions, answeredAt };
}
