#!/usr/bin/env node
/**
 * `npm test`'s pretest: the HTML report test (tests/report/html.test.ts) renders in a real headless
 * Chromium, Debian's `chromium` package; numgate never downloads a browser from elsewhere.
 *
 * When it is missing and we are root with apt-get (a fresh container, CI), install it; otherwise
 * say exactly what to install. Never fails the test command itself: without a browser only the
 * HTML test fails, with its own message, and every other test still runs.
 *
 * NUMGATE_CHROMIUM points at another chromium binary (as it does for the test).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = process.env.NUMGATE_CHROMIUM ?? "/usr/bin/chromium";
const INSTALL = "apt-get install -y chromium";

function say(line) {
  process.stderr.write(`ensure-chromium: ${line}\n`);
}

function run(command, args) {
  say(`${command} ${args.join(" ")}`);
  const r = spawnSync(command, args, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return r.status === 0;
}

function hasAptGet() {
  return spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
}

if (existsSync(CHROMIUM)) process.exit(0);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (process.env.NUMGATE_CHROMIUM !== undefined) {
  say(`NUMGATE_CHROMIUM=${CHROMIUM} does not exist; the HTML report test will fail. Unset it to use Debian's chromium (${INSTALL}).`);
} else if (isRoot && hasAptGet()) {
  say(`${CHROMIUM} is missing; installing Debian's chromium package for the HTML report test`);
  if (!(run("apt-get", ["update", "-qq"]) && run("apt-get", ["install", "-y", "-qq", "chromium"])) || !existsSync(CHROMIUM)) {
    say(`could not install chromium; the HTML report test will fail. Install it yourself: ${INSTALL}`);
  }
} else {
  say(`${CHROMIUM} is missing, so the HTML report test will fail. Install Debian's chromium package: ${isRoot ? "" : "sudo "}${INSTALL}`);
  say("(or point NUMGATE_CHROMIUM at a chromium binary)");
}
