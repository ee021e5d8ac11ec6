/*
 * One seed for every fast-check property of a run (README: Security, Fuzzing). `FUZZ_SEED` fixes
 * it; CI fixes it (a run there is reproducible, and a new counterexample cannot fail a submission
 * at random); elsewhere each run draws a new one, so local runs keep exploring. A failure prints
 * the seed and path that reproduce it.
 */
import fc from 'fast-check'

const CI_SEED = 20_261_205
const fixed = process.env.FUZZ_SEED ?? (process.env.CI ? String(CI_SEED) : undefined)
const seed = fixed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(fixed)
fc.configureGlobal({ seed })
