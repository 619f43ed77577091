// Paths through a zod object schema (pure): the leaf settings of a nested schema and the
// schema of one leaf, behind .default(), .optional() and the like. The config schema (a
// flat key's hint) and every command resource's contract (one variable per leaf) walk
// schemas with them.
import { z } from "zod";

export type AnyObject = z.ZodObject<z.ZodRawShape>;

/** A field's schema behind .default(), .optional() and the like. */
export function unwrapped(field: z.ZodType): z.ZodType {
    let t = field;
    for (let def = t._zod.def as { innerType?: z.ZodType }; def.innerType; def = t._zod.def as { innerType?: z.ZodType }) t = def.innerType;
    return t;
}

/** The nested object schema of a field, if it is one. */
function nestedObject(field: z.ZodType): AnyObject | undefined {
    const t = unwrapped(field);
    return t instanceof z.ZodObject ? (t as AnyObject) : undefined;
}

/** The schema of the leaf at `path`. */
export function leafSchema(schema: AnyObject, path: string[]): z.ZodType {
    let t: z.ZodType = schema;
    for (const k of path) t = unwrapped((t as AnyObject).shape[k] as z.ZodType);
    return t;
}

/** The paths of an object schema's leaf settings (nested objects are walked, not leaves). */
export function leafPaths(schema: AnyObject, prefix: string[] = []): string[][] {
    return Object.entries(schema.shape).flatMap(([key, field]) => {
        const nested = nestedObject(field as z.ZodType);
        return nested ? leafPaths(nested, [...prefix, key]) : [[...prefix, key]];
    });
}
