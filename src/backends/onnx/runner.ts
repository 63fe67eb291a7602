/**
 * Runs ONNX graphs over named tensors, in the spirit of Polygraphy's runners and ONNX Runtime's
 * `run(feeds)`: one onnxruntime-node session per graph role, feeds in, named outputs out. It knows
 * nothing of what the graphs mean; a layout (./layouts/) gives the tensor names their meaning.
 */
import * as ort from "onnxruntime-node";
import { relative } from "node:path";
import { NumgateError } from "../../errors/numgate-error.ts";
import type { ProviderChoice } from "./providers.ts";

export function onnxruntimeVersion(): string | null {
  const v = (ort.env as { versions?: { common?: string } }).versions?.common;
  return typeof v === "string" ? v : null;
}

function rel(p: string): string {
  return relative(process.cwd(), p) || p;
}

/**
 * onnxruntime 1.29 and later collect telemetry on Linux and macOS as well: a device id and an event
 * cache written under ~/.cache/Microsoft/DeveloperTools/.onnxruntime, and uploads. A gate run,
 * often offline in CI, should write nothing outside its report directory and send nothing, so
 * numgate opts out (ORT_DISABLE_TELEMETRY=1, onnxruntime's own switch, which it reads once, when its
 * environment is created with the first session) unless the variable is already set: =0 keeps
 * onnxruntime's default. It also spares each process the cache's start (a few ms, in the noise here).
 */
function optOutOfOrtTelemetry(): void {
  process.env["ORT_DISABLE_TELEMETRY"] ??= "1";
}

export class OnnxRunner {
  private seconds = 0;
  /** Each role's graph as messages name it, relative to the working directory: made once, not per run. */
  private readonly shownFiles: ReadonlyMap<string, string>;

  private constructor(
    files: Readonly<Record<string, string>>,
    private readonly sessions: ReadonlyMap<string, ort.InferenceSession>,
  ) {
    this.shownFiles = new Map(Object.entries(files).map(([role, path]) => [role, rel(path)]));
  }

  /**
   * Opens one session per role; `files` maps a role ("decoder", ...) to its .onnx path. `load`
   * may name another file to load for a role (an edited copy) while messages keep the user's path.
   */
  static async open(files: Readonly<Record<string, string>>, provider?: ProviderChoice, load: Readonly<Record<string, string>> = {}): Promise<OnnxRunner> {
    const ep = provider === undefined || provider.name === "cpu" ? "cpu" : { name: provider.name, ...provider.options };
    const opts: ort.InferenceSession.SessionOptions = {
      executionProviders: [ep as ort.InferenceSession.ExecutionProviderConfig],
      graphOptimizationLevel: "all",
      // Determinism beats speed for a gate: one intra-op thread (the default) keeps reductions in a
      // fixed order; --threads trades that for speed where a model is too large for one core.
      intraOpNumThreads: provider?.threads ?? 1,
      interOpNumThreads: 1,
    };
    optOutOfOrtTelemetry();
    const sessions = new Map<string, ort.InferenceSession>();
    for (const [role, path] of Object.entries(files)) {
      try {
        sessions.set(role, await ort.InferenceSession.create(load[role] ?? path, opts));
      } catch (e) {
        await Promise.all([...sessions.values()].map((s) => s.release()));
        throw new NumgateError("backend_failed", `onnxruntime could not load the ${role} graph: ${(e as Error).message}`, { file: rel(path), cause: e });
      }
    }
    return new OnnxRunner(files, sessions);
  }

  get inferenceSeconds(): number {
    return this.seconds;
  }

  /** The graph of `role`, as messages name it. */
  file(role: string): string {
    return this.shownFiles.get(role) ?? role;
  }

  private session(role: string): ort.InferenceSession {
    const s = this.sessions.get(role);
    if (s === undefined) throw new NumgateError("internal", `no ${role} graph was opened`);
    return s;
  }

  inputNames(role: string): readonly string[] {
    return this.session(role).inputNames;
  }

  outputNames(role: string): readonly string[] {
    return this.session(role).outputNames;
  }

  /** Runs one graph; `fetches` limits the outputs computed (all when omitted). */
  async run(role: string, feeds: Record<string, ort.Tensor>, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    const s = this.session(role);
    const t0 = performance.now();
    try {
      return fetches === undefined ? await s.run(feeds) : await s.run(feeds, [...fetches]);
    } catch (e) {
      throw new NumgateError("backend_failed", `onnxruntime failed running the ${role} graph: ${(e as Error).message}`, { file: this.file(role), cause: e });
    } finally {
      this.seconds += (performance.now() - t0) / 1000;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.release()));
  }
}
