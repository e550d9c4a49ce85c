/** A structured, levelled logger writing one JSON object per line, like the rest of agentland. */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(level: LogLevel, write: (line: string) => void = console.log): Logger {
  const at =
    (lvl: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (RANK[lvl] < RANK[level]) return;
      write(JSON.stringify({ level: lvl, component: "gateway", msg, ...fields }));
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** For tests and tools that want silence. */
export const silentLogger: Logger = createLogger("error", () => {});

/** Error text for logs, with the cause chain (never sent to clients). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause === undefined ? "" : ` (cause: ${describeError(err.cause)})`;
  return `${err.name}: ${err.message}${cause}`;
}
