/** Types of modules.mjs (plain JavaScript, so stryker.config.mjs can import it). */
export interface MutationModule {
  name: string
  mutate: string[]
  testFiles: string[]
  /** Why a file or part of the module is not mutated. */
  excluded?: string
}
export declare const threshold: number
export declare const modules: MutationModule[]
