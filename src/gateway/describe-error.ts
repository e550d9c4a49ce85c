/** Error text for logs, with the cause chain. Never sent to clients. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause === undefined ? "" : ` (cause: ${describeError(err.cause)})`;
  return `${err.name}: ${err.message}${cause}`;
}
