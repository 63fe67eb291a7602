/** The text helpers moved below the gates (src/render/text.ts); report/ keeps this name for its callers. */
export * from "../render/text.ts";
