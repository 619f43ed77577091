// Value forms shared by every config schema: `pulumi config set --path` may store numbers
// and booleans as strings, so both forms are accepted.
import { z } from "zod";

export const num = () => z.preprocess((v) => (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v), z.number());
export const bool = () => z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());
