/**
 * Reading and writing ONNX model protos with protobufjs over the official schema
 * (vendor/onnx/onnx.proto). Only the graph proto is touched: initializers stored as external
 * data keep their `location`, so a copy written elsewhere must keep those files reachable.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { packageRoot } from "../../../files/package-root.ts";

let modelType: protobuf.Type | undefined;
function ModelProto(): protobuf.Type {
  modelType ??= protobuf.loadSync(join(packageRoot(), "vendor", "onnx", "onnx.proto")).lookupType("onnx.ModelProto");
  return modelType;
}

/** The fields numgate reads or writes; everything else round-trips untouched. */
export interface NodeProto {
  name?: string;
  opType?: string;
  input: string[];
  output: string[];
}
export interface ValueInfoProto {
  name: string;
  type?: { tensorType?: { elemType?: number } };
}
export interface StringStringEntry {
  key: string;
  value: string;
}
export interface TensorProto {
  name?: string;
  dataLocation?: number;
  externalData: StringStringEntry[];
}
export interface GraphProto {
  node: NodeProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  initializer: TensorProto[];
}
export interface OnnxModel {
  graph: GraphProto;
}

export function readModel(path: string): OnnxModel {
  const t = ModelProto();
  const msg = t.decode(readFileSync(path));
  return msg as unknown as OnnxModel;
}

export function writeModel(model: OnnxModel, path: string): void {
  const t = ModelProto();
  writeFileSync(path, t.encode(model as unknown as protobuf.Message).finish());
}

/** The relative files that external-data initializers point at (deduplicated). */
export function externalDataFiles(model: OnnxModel): string[] {
  const files = new Set<string>();
  for (const init of model.graph.initializer) {
    for (const e of init.externalData ?? []) if (e.key === "location") files.add(e.value);
  }
  return [...files];
}
