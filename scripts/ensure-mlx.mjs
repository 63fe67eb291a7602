#!/usr/bin/env node
/**
 * `npm test`'s pretest, second part: the MLX engine's tests (tests/engines/mlx-engine.test.ts) run
 * mlx-vlm for real on the CPU, from the pinned engines/mlx/requirements.txt installed into
 * .venv-mlx/ by engines/mlx/install. Made here when missing, so the README's test command needs no
 * extra step; like ensure-chromium it never fails the test command itself (without the venv only
 * the MLX tests fail, with their own message).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const python = process.env.NUMGATE_MLX_PYTHON ?? `${root}.venv-mlx/bin/python`;
const ready = existsSync(python) && spawnSync(python, ["-c", "import mlx.core, mlx_vlm"], { stdio: "ignore" }).status === 0;
if (!ready) {
  // Debian's python3 ships without ensurepip (the python3-venv package), so `python3 -m venv`
  // fails on a fresh machine: install it the way ensure-chromium installs chromium, when we may.
  const base = process.env.PYTHON ?? "python3";
  const hasVenv = () => spawnSync(base, ["-c", "import ensurepip, venv"], { stdio: "ignore" }).status === 0;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!hasVenv() && isRoot && spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0) {
    process.stderr.write("ensure-mlx: python3 has no venv module; apt-get install -y python3-venv\n");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    spawnSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "inherit", "inherit"], env });
    spawnSync("apt-get", ["install", "-y", "-qq", "python3-venv"], { stdio: ["ignore", "inherit", "inherit"], env });
  }
  process.stderr.write(`ensure-mlx: making the MLX engine's venv (bash engines/mlx/install)\n`);
  const r = spawnSync("bash", [`${root}engines/mlx/install`], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) process.stderr.write("ensure-mlx: engines/mlx/install failed; the MLX engine tests will fail and say why\n");
}
