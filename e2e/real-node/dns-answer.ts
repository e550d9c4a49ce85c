/**
 * Answers one DNS query (RFC 1035 wire format) for the real node's pods: `<svc>.<ns>.svc.cluster.local`
 * type A → the Service's ClusterIP; such a name with another type → no records; anything else → NXDOMAIN.
 * Authoritative, never recursive: queries for outside names are not forwarded anywhere.
 */
const SUFFIX = ".svc.cluster.local";
const TYPE_A = 1;
const CLASS_IN = 1;

interface Question {
  readonly name: string;
  readonly type: number;
  /** Offset just past the question (question bytes are echoed in the reply). */
  readonly end: number;
}

function parseQuestion(q: Uint8Array): Question | undefined {
  if (q.length < 12 || ((q[4] ?? 0) << 8) + (q[5] ?? 0) < 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  for (;;) {
    const len = q[at];
    if (len === undefined || len > 63) return undefined;
    at++;
    if (len === 0) break;
    labels.push(new TextDecoder().decode(q.subarray(at, at + len)));
    at += len;
  }
  if (at + 4 > q.length) return undefined;
  return { name: labels.join(".").toLowerCase(), type: ((q[at] ?? 0) << 8) + (q[at + 1] ?? 0), end: at + 4 };
}

/** The reply to `query`, or undefined for a packet that is not a query worth answering. */
export function answerQuery(
  query: Uint8Array,
  lookup: (svcDotNs: string) => string | undefined,
): Uint8Array | undefined {
  const q = parseQuestion(query);
  if (!q || ((query[2] ?? 0) & 0x80) !== 0) return undefined;
  const ip = q.name.endsWith(SUFFIX) ? lookup(q.name.slice(0, -SUFFIX.length)) : undefined;
  const rcode = ip === undefined ? 3 : 0;
  const answer = ip !== undefined && q.type === TYPE_A;
  const head = new Uint8Array(12);
  head.set(query.subarray(0, 2), 0);
  head[2] = 0x84 | ((query[2] ?? 0) & 0x01); // QR, AA, RD echoed
  head[3] = rcode;
  head[5] = 1;
  head[7] = answer ? 1 : 0;
  const rr = answer
    ? Uint8Array.from([0xc0, 12, 0, TYPE_A, 0, CLASS_IN, 0, 0, 0, 5, 0, 4, ...ip.split(".").map(Number)])
    : new Uint8Array(0);
  const out = new Uint8Array(12 + (q.end - 12) + rr.length);
  out.set(head, 0);
  out.set(query.subarray(12, q.end), 12);
  out.set(rr, q.end);
  return out;
}
