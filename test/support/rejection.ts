// The error a promise rejects with; a promise that resolves fails the test, naming what was expected.
export async function rejection(p: Promise<unknown>, expected: string): Promise<Error> {
    try {
        await p;
    } catch (err) {
        return err as Error;
    }
    throw new Error(`expected ${expected}`);
}
