/**
 * The environment the code-interpreter image gives korokd, in one place for the image builder, the
 * Dockerfile's check, the host-process node's image map and the korokd benchmark.
 *
 * BUN_GC_TIMER_DISABLE: Bun's own idle-collection timer wakes every process once a second to look at its
 * memory and, while the heap keeps moving a little, starts a collection on the GC helper threads. In an
 * idle korokd that was most of its CPU at rest (~2.5 of ~3 ms per second), in every warm pod of every
 * pool. JavaScriptCore's own allocation-paced collections still run; what a pod keeps without the idle
 * ones is about a MiB (e2e/bench/korokd.ts measures both side by side). User code never inherits it (its
 * environment is built from scratch, src/korokd/exec/sandbox-env.ts); Bun-run user code is given the
 * same setting by korokd itself, for the interpreters and contexts waiting in the pod
 * (src/korokd/exec/languages.ts).
 */
export const KOROKD_IMAGE_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  BUN_GC_TIMER_DISABLE: "1",
};
