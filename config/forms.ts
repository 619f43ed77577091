// The value forms the stack config's sections share: Docker names, versions, image
// references, whole seconds within bounds (numbers may arrive as strings: core/values.ts).
import { z } from "zod";
import { num } from "../core/values";

export const dockerName = z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, "lower-case letters, digits and dashes, starting with a letter, at most 31 characters");
export const version = z
    .string()
    .regex(/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, "a version like 2.5.0, v2.5.0 or 2.5.0-rc.1, the image's tag (never 'latest')");
// A Docker image reference: repository (optionally with registry and path), then a tag and/or digest.
export const imageRef = () =>
    z
        .string()
        .regex(
            /^[a-z0-9][a-z0-9._/-]*(:[0-9]+\/[a-z0-9._/-]+)?(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/,
            "an image reference such as debian:bookworm-slim or registry.example.com/base:12 (lower-case repository, optional tag or digest)",
        );
export const seconds = (min: number, max: number) => num().pipe(z.number().int().min(min).max(max));
