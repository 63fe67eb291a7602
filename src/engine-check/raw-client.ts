/**
 * A bare engine process for the conformance suite: send any bytes (well-formed or not), read the
 * next answer with a deadline, see whether and how the process ended. Unlike EngineBackend it
 * never interprets an answer, so a check can look at exactly what the engine said.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { Tensor } from "../tensor/tensor.ts";
import { encodeMessage, MessageReader, type WireMessage } from "../backends/engine/wire.ts";

export type Next = { kind: "answer"; message: WireMessage; seconds: number } | { kind: "exit"; code: number | null; signal: string | null } | { kind: "timeout"; seconds: number } | { kind: "garbled"; detail: string };

export class RawEngine {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly reader = new MessageReader("engine");
  private readonly inbox: WireMessage[] = [];
  private waiter: (() => void) | undefined;
  private garbled: string | undefined;
  exit: { code: number | null; signal: string | null } | undefined;
  stderr = "";
  private nextId = 1;

  constructor(command: readonly string[], cwd: string) {
    const [cmd, ...args] = command;
    this.child = spawn(cmd === "node" ? process.execPath : (cmd ?? ""), args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.child.on("error", (e) => {
      this.exit ??= { code: null, signal: null };
      this.stderr += `could not start: ${e.message}\n`;
      this.waiter?.();
    });
    this.child.stdout.on("data", (c: Buffer) => {
      try {
        this.inbox.push(...this.reader.push(c));
      } catch (e) {
        this.garbled = (e as Error).message;
      }
      this.waiter?.();
    });
    this.child.stderr.on("data", (c: Buffer) => (this.stderr = (this.stderr + c.toString("utf8")).slice(-4000)));
    this.child.stdin.on("error", () => undefined);
    this.child.on("close", (code, signal) => {
      this.exit = { code, signal };
      this.waiter?.();
    });
  }

  /** Read through a method so narrowing before an await does not outlive it. */
  exitStatus(): { code: number | null; signal: string | null } | undefined {
    return this.exit;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  sendBytes(b: Buffer): void {
    if (this.exit === undefined) this.child.stdin.write(b);
  }

  /** Sends a request with a fresh id; returns the id. */
  send(op: string, fields: Record<string, unknown> = {}, tensors: Record<string, Tensor> = {}): number {
    const id = this.nextId++;
    this.sendBytes(encodeMessage({ id, op, ...fields }, tensors));
    return id;
  }

  async next(timeoutSeconds: number): Promise<Next> {
    const t0 = performance.now();
    for (;;) {
      const m = this.inbox.shift();
      if (m !== undefined) return { kind: "answer", message: m, seconds: (performance.now() - t0) / 1000 };
      if (this.garbled !== undefined) return { kind: "garbled", detail: this.garbled };
      if (this.exit !== undefined) return { kind: "exit", ...this.exit };
      const left = timeoutSeconds * 1000 - (performance.now() - t0);
      if (left <= 0) return { kind: "timeout", seconds: timeoutSeconds };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Sends and waits for the answer. */
  async request(op: string, fields: Record<string, unknown>, tensors: Record<string, Tensor>, timeoutSeconds: number): Promise<Next> {
    this.send(op, fields, tensors);
    return this.next(timeoutSeconds);
  }

  async waitExit(seconds: number): Promise<boolean> {
    const t0 = performance.now();
    while (this.exit === undefined && performance.now() - t0 < seconds * 1000) await new Promise((r) => setTimeout(r, 20));
    return this.exit !== undefined;
  }

  async kill(): Promise<void> {
    if (this.exit === undefined) {
      this.child.kill("SIGKILL");
      await this.waitExit(5);
    }
  }
}
