/**
 * Start-up cleanup: a node agent that was killed (SIGKILL, machine reset of the process tree) may have
 * left pod sandboxes behind. Every sandbox's bwrap names the pods directory on its command line, so
 * those processes are found and killed (their namespaces die with them) and the directory is emptied.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";

export function killStaleSandboxes(podsDir: string): number {
  let killed = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!cmdline.includes(`${podsDir}/`)) continue;
      process.kill(Number(entry), "SIGKILL");
      killed++;
    } catch {
      // gone already
    }
  }
  return killed;
}

export function cleanStaleState(podsDir: string): number {
  const killed = killStaleSandboxes(podsDir);
  rmSync(podsDir, { recursive: true, force: true });
  return killed;
}
