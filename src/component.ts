/** What `main.ts` gets back from starting a mode: where it listens and how to drain it. */
export interface RunningComponent {
  /** The base URL the component serves on, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops accepting work, finishes or aborts in-flight work within `deadlineMs`, releases everything. */
  stop(deadlineMs: number): Promise<void>;
}
