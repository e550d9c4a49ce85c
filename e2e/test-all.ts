/**
 * Command B (`npm test`): every test of the project, on a fresh machine. Installs system packages,
 * builds (or reuses) the control-plane binaries, starts one real local cluster for the whole run, builds
 * (or reuses) the real-node tier's programs, runs `bun test` against it, always tears the cluster down, and ends with the line CI reads:
 * `N passed, N failed, N skipped`, computed from the runner's JUnit report.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clusterDown, clusterUp } from "./cluster/control-plane";
import { ensureRealNodeBinaries } from "./real-node/real-node";
import { ensureSystemPackages } from "./setup/system-packages";

const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
const step = (msg: string) => console.error(`\n==> [${elapsed()}] ${msg}`);

function countResults(junitXml: string): { passed: number; failed: number; skipped: number } {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const m of junitXml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
  return { passed, failed, skipped };
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  step("system packages");
  await ensureSystemPackages();
  const clusterName = `test-${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), "agentland-test-"));
  try {
    step("local Kubernetes cluster (the first run builds Kubernetes from source: 15-25 min on 2 cores)");
    const cluster = await clusterUp({ name: clusterName, log: (l) => console.error(`    ${l}`) });
    if (filters.length === 0 || filters.some((f) => f.includes("real-node"))) {
      step("real-node programs: kubelet and gVisor from Go modules, containerd (cold: 5-10 min on 2 cores)");
      await ensureRealNodeBinaries((l) => console.error(`    ${l}`));
    }
    step("bun test");
    const junit = join(work, "junit.xml");
    // The tests' own temp dir, so that whatever they leave behind shows up below (and goes with `work`).
    const testTmp = join(work, "tmp");
    mkdirSync(testTmp);
    const proc = Bun.spawn(
      ["bun", "test", "--timeout=60000", "--reporter=junit", `--reporter-outfile=${junit}`, ...filters],
      {
        stdout: "inherit",
        stderr: "inherit",
        env: {
          ...process.env,
          AGENTLAND_CLUSTER_DIR: cluster.dir,
          KUBECONFIG: cluster.kubeconfig,
          TMPDIR: testTmp,
        },
      },
    );
    const code = await proc.exited;
    let counts = { passed: 0, failed: 0, skipped: 0 };
    try {
      counts = countResults(readFileSync(junit, "utf8"));
    } catch (err) {
      console.error(`could not read the JUnit report: ${err}`);
    }
    const left = readdirSync(testTmp);
    if (left.length > 0) {
      console.error(
        `the tests left ${left.length} entries in their temp dir: ${left.slice(0, 20).join(", ")}`,
      );
      counts.failed++;
    }
    step(`done; bun test exited with ${code}`);
    console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
    return code !== 0 || counts.failed > 0 || counts.passed === 0 ? 1 : 0;
  } finally {
    step("tearing the cluster down");
    await clusterDown(clusterName);
    rmSync(work, { recursive: true, force: true });
  }
}

process.exit(
  await main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    console.log("0 passed, 1 failed");
    return 1;
  }),
);
