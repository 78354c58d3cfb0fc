/** What the fault-injection tests share. */

/** `ok`, or the name of the error the request failed with: a sequence of these is comparable. */
export async function outcomeOf(send: Promise<unknown>): Promise<string> {
  try {
    await send;
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  }
}
