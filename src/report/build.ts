/** Assembles report.json from runs: the environment block and the pinned timestamp. */
import { readFileSync } from "node:fs";
import { onnxruntimeVersion } from "../backends/onnx/runner.ts";
import { reportTimestamp } from "./json.ts";
import { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION, type Report, type Run } from "./schema.ts";

export function numgateVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
  return pkg.version ?? "0.0.0";
}

export function buildReport(runs: Run[]): Report {
  return {
    schema: REPORT_SCHEMA_ID,
    version: REPORT_SCHEMA_VERSION,
    generated_at: reportTimestamp(),
    environment: {
      numgate: numgateVersion(),
      node: process.version,
      onnxruntime: onnxruntimeVersion(),
      platform: `${process.platform}-${process.arch}`,
    },
    runs,
  };
}
