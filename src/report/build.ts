/** Assembles report.json from runs: the environment block and the pinned timestamp. */
import { onnxruntimeVersion } from "../backends/onnx/runner.ts";
import { packageVersion } from "../files/package-root.ts";
import { reportTimestamp } from "./json.ts";
import { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION, type Report, type Run } from "./schema.ts";

export function buildReport(runs: Run[]): Report {
  return {
    schema: REPORT_SCHEMA_ID,
    version: REPORT_SCHEMA_VERSION,
    generated_at: reportTimestamp(),
    environment: {
      numgate: packageVersion(),
      node: process.version,
      onnxruntime: onnxruntimeVersion(),
      platform: `${process.platform}-${process.arch}`,
    },
    runs,
  };
}
