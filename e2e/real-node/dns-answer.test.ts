import { expect, test } from "bun:test";
import { answerQuery } from "./dns-answer";

/** A standard query (RD set) for `name` of `type`, id 0x1234. */
function query(name: string, type: number): Uint8Array {
  const labels = name.split(".").flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  return Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, type, 0, 1]);
}

const services = new Map([["agentland-agentcore.agentland-system", "10.96.12.34"]]);
const lookup = (n: string) => services.get(n);

test("a Service name resolves to its ClusterIP, authoritatively, with the query's id and question", () => {
  const q = query("agentland-agentcore.agentland-system.svc.cluster.local", 1);
  const r = answerQuery(q, lookup) as Uint8Array;
  expect([r[0], r[1]]).toEqual([0x12, 0x34]);
  expect(r[2]).toBe(0x85); // QR, AA, RD
  expect(r[3]).toBe(0); // NOERROR
  expect([r[6], r[7]]).toEqual([0, 1]); // one answer
  expect(r.subarray(12, q.length)).toEqual(q.subarray(12));
  expect([...r.subarray(r.length - 4)]).toEqual([10, 96, 12, 34]);
});

test("names outside the cluster are NXDOMAIN and never forwarded: pods cannot use the host's resolver", () => {
  for (const name of ["example.com", "agentland-agentcore.agentland-system.svc.cluster.local.evil.com"]) {
    const r = answerQuery(query(name, 1), lookup) as Uint8Array;
    expect(r[3]).toBe(3);
    expect([r[6], r[7]]).toEqual([0, 0]);
  }
});

test("an unknown Service is NXDOMAIN and a known one asked for AAAA has no records", () => {
  expect((answerQuery(query("nope.default.svc.cluster.local", 1), lookup) as Uint8Array)[3]).toBe(3);
  const aaaa = answerQuery(
    query("agentland-agentcore.agentland-system.svc.cluster.local", 28),
    lookup,
  ) as Uint8Array;
  expect(aaaa[3]).toBe(0);
  expect([aaaa[6], aaaa[7]]).toEqual([0, 0]);
});

test("responses and truncated packets get no reply", () => {
  const q = query("x.y.svc.cluster.local", 1);
  q[2] = 0x81;
  expect(answerQuery(q, lookup)).toBeUndefined();
  expect(answerQuery(Uint8Array.from([1, 2, 3]), lookup)).toBeUndefined();
});
