/**
 * `numgate positions --in cases.json --out result.json`: transformers' M-RoPE `get_rope_index`, exactly, for a
 * file of cases (format in src/rope/positions-file.ts).
 */
import type { Command } from "commander";

export function registerPositionsCommand(program: Command): void {
  program
    .command("positions")
    .description(
      "compute M-RoPE position ids and rope deltas exactly as transformers' get_rope_index does " +
        '(input {"family", "image_token_id", "video_token_id", "vision_start_token_id", "cases": [...]})',
    )
    .requiredOption("--in <file>", "cases JSON file")
    .requiredOption("--out <file>", "result JSON file to write")
    .action(async (opts: { in: string; out: string }) => {
      const { runPositionsFile } = await import("../rope/positions-file.ts");
      await runPositionsFile(opts.in, opts.out);
    });
}
