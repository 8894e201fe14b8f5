/**
 * Temporary directories that remove themselves: `await using tmp = await withTmpDir()`.
 *
 * @module
 */

/** A temporary directory, removed recursively when disposed. */
export interface TmpDir extends AsyncDisposable {
  /** Absolute path of the directory. */
  path: string;
}

/** Create a temporary directory that `await using` removes with everything in it. */
export async function withTmpDir(prefix = "capibara_test_"): Promise<TmpDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      try {
        await Deno.remove(path, { recursive: true });
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    },
  };
}
