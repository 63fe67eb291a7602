/** The disk, RAM and time lines printed under a missing oracle's record command (when the family can estimate). */
import { formatEstimate, readRecordConfig, recordConfigPath } from "../oracle/record-estimate.ts";
import type { AnyFamily } from "../models/registry.ts";
import { isNumgateError } from "../errors/numgate-error.ts";
import { rel } from "./resolve.ts";

export function recordEstimateLines(root: string, model: string, recordCommand: string | undefined, family: AnyFamily): string {
  if (family.estimate === undefined) return "";
  const path = recordConfigPath(root, model, recordCommand);
  try {
    return `\n${formatEstimate(family.estimate(readRecordConfig(path, rel(path)), rel(path)), rel(path)).join("\n")}`;
  } catch (e) {
    // The record command is still worth printing when the estimate cannot be made; say why.
    if (isNumgateError(e)) return `\n(no size estimate: ${e.message})`;
    throw e;
  }
}
