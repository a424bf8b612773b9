/** Throws: for checks written as expressions (`x ?? fail('...')`). */
export const fail = (message: string): never => {
  throw new Error(message);
};
