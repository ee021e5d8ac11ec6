/** Types of patch.mjs, for the TypeScript that imports it. */
export interface Patch {
  name: string
  /** Absolute path of the product file. */
  file: string
  find: string
  replace: string
  /** Absolute path of the file that records each application (JSON lines). */
  marker: string
}
export declare const PATCH_ENV: string
export declare function patchFromEnv(): Patch | null
export declare function applyPatch(source: string, patch: Patch, via: 'vite' | 'node'): string
