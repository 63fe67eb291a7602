#!/usr/bin/env node
/** numgate's command line from the sources (`npm run dev`, the tests); the built CLI is dist/cli/main.cjs. */
import { main } from "./program.ts";

await main(process.argv);
