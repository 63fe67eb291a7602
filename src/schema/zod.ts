/**
 * The zod every numgate schema is built with: zod/mini, the functional API over zod's core, with
 * zod's English messages (zod/mini leaves the locale unset; the classic API sets this same one).
 *
 * Why mini: a gate run builds ~770 schema instances at start-up, by cold code, and a classic instance
 * is more to build and keep than a mini one (cold, ~700 instances: 15 -> 8 ms and 1.7 MB less heap;
 * the tiny gate's import phase 26 -> 21 ms). The same core parses both, so every message, every
 * parsed value and report.schema.json are unchanged (tests).
 */
import { z } from "zod/mini";

z.config(z.locales.en());

export { z };
