/**
 * The AWS backend's paging: follows `NextToken` to the last page and refuses
 * a token seen before (a broken endpoint must not loop forever).
 *
 * @module
 */

import { type ErrorContext, SecretAccessError } from "../core/errors.ts";

/** Calls `fetchPage` for every page, first with no token, and hands each page to `onPage`. */
export async function eachPage<Out extends { NextToken?: string }>(
  fetchPage: (token: string | undefined) => Promise<Out>,
  onPage: (page: Out) => void,
  ctx: ErrorContext,
): Promise<void> {
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    onPage(page);
    token = page.NextToken || undefined;
    if (token !== undefined) {
      if (seen.has(token)) {
        throw new SecretAccessError(ctx, "AWS returned the same page token twice", "damaged");
      }
      seen.add(token);
    }
  } while (token !== undefined);
}
