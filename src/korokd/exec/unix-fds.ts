/**
 * The few libc calls Bun has no API for, used by the python fork server: a socket pair to hand a
 * child, receiving file descriptors over it (SCM_RIGHTS), and making korokd non-dumpable. Linux x86-64
 * and aarch64 (LP64) struct layouts.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const PR_SET_DUMPABLE = 4;
/** struct msghdr and struct cmsghdr on LP64. */
const MSGHDR_SIZE = 56;
const CMSG_HEADER = 16;

let loaded: ReturnType<typeof load> | undefined;

function load() {
  return dlopen("libc.so.6", {
    socketpair: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64 },
    prctl: {
      args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64],
      returns: FFIType.i32,
    },
  }).symbols;
}

function libc() {
  loaded ??= load();
  return loaded;
}

/**
 * A connected pair of SOCK_SEQPACKET unix sockets (message boundaries kept), close-on-exec: only the
 * process it is explicitly handed to as a stdio entry gets one.
 */
export function socketPair(): [number, number] {
  const sv = new Int32Array(2);
  if (libc().socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ptr(sv)) !== 0) {
    throw new Error("socketpair() failed");
  }
  return [sv[0] as number, sv[1] as number];
}

export interface ReceivedFds {
  readonly payload: string;
  readonly fds: readonly number[];
}

/**
 * One queued message with its descriptors, without blocking (undefined when none is queued). Received
 * descriptors are close-on-exec, so no interpreter korokd spawns later inherits them.
 */
export function receiveFds(socket: number, maxFds: number): ReceivedFds | undefined {
  const data = new Uint8Array(256);
  const control = new Uint8Array(CMSG_HEADER + 4 * maxFds + 8);
  const iov = new BigUint64Array([BigInt(ptr(data)), BigInt(data.length)]);
  const msg = new Uint8Array(MSGHDR_SIZE);
  const header = new DataView(msg.buffer);
  header.setBigUint64(16, BigInt(ptr(iov)), true);
  header.setBigUint64(24, 1n, true);
  header.setBigUint64(32, BigInt(ptr(control)), true);
  header.setBigUint64(40, BigInt(control.length), true);
  const n = Number(libc().recvmsg(socket, ptr(msg), MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
  // 0: the peer closed (an empty message is never sent).
  if (n <= 0) return undefined;
  const fds: number[] = [];
  const cmsg = new DataView(control.buffer);
  const length = Number(header.getBigUint64(40, true));
  if (
    length >= CMSG_HEADER &&
    cmsg.getInt32(8, true) === SOL_SOCKET &&
    cmsg.getInt32(12, true) === SCM_RIGHTS
  ) {
    const end = Math.min(length, Number(cmsg.getBigUint64(0, true)));
    for (let at = CMSG_HEADER; at + 4 <= end; at += 4) fds.push(cmsg.getInt32(at, true));
  }
  return { payload: new TextDecoder().decode(data.subarray(0, n)), fds };
}

/**
 * Makes this process non-dumpable: its /proc/<pid>/fd, mem and environ are then closed to other
 * processes of the same (non-root) user, such as the code korokd runs. Returns false where refused.
 */
export function makeNonDumpable(): boolean {
  return libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) === 0;
}
