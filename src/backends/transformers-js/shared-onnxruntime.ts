/**
 * transformers.js on numgate's own onnxruntime-node instance, when both would load the same
 * installed package.
 *
 * Why: onnxruntime-node's native addon is loaded once per process, and it makes every output tensor
 * with the Tensor class of whichever JavaScript copy of onnxruntime-node initialised it last. The
 * built CLI bundles that JavaScript (scripts/build.mjs), so transformers.js requiring the package
 * would load a second copy; transformers.js tells its outputs apart with `instanceof ONNX.Tensor`,
 * and which copy initialised last would decide what it saw. So numgate's copy is entered in
 * node's module cache as that package's entry file (`require.cache`, which node documents as open
 * to additions): transformers.js's require then gets the one instance, as when both loaded the same
 * files from node_modules (the sources and the tests, where the entry is cached already and nothing
 * is added). A transformers.js that resolves another onnxruntime-node (another addon, with its own
 * Tensor class) keeps it.
 */
import { createRequire } from "node:module";
import * as ort from "onnxruntime-node";

/** Call before importing @huggingface/transformers. */
export function shareOnnxRuntimeWithTransformersJs(): void {
  const require = createRequire(import.meta.url);
  const ours = require.resolve("onnxruntime-node");
  const theirs = createRequire(require.resolve("@huggingface/transformers")).resolve("onnxruntime-node");
  if (ours !== theirs || require.cache[ours] !== undefined) return;
  // What node's loader reads of a cached module: its exports, and that it finished loading.
  require.cache[ours] = { id: ours, filename: ours, loaded: true, exports: ort, children: [], paths: [] } as unknown as NodeJS.Module;
}
