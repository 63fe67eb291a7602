/**
 * Importing a package that is not bundled (@huggingface/transformers) at run time.
 *
 * Why not a plain `import()`: the built CLI runs its bundle through a V8 code cache
 * (src/cli/bundle-loader.ts, vm.Script with cachedData), and on Node 20 a script compiled from a
 * code cache has no dynamic-import callback: every run after the first failed with
 * ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING. So the loader (dist/cli/main.cjs, a module node itself
 * compiled) hands over its own `import()` here (`useExternalImporter`); the sources (tests,
 * `npm run dev`) keep the default.
 */
type Importer = (specifier: string) => Promise<unknown>;

let importer: Importer = (specifier) => import(specifier);

export function useExternalImporter(f: Importer): void {
  importer = f;
}

export function importExternal<T>(specifier: string): Promise<T> {
  return importer(specifier) as Promise<T>;
}
