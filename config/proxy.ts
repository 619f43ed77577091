// The stack config's proxy section: the port, the image and config template, the
// conversation table, HTTPS, the maintenance switch for a new port.
import { z } from "zod";
import { dockerName, imageRef } from "./forms";
import { num, bool } from "../core/values";
import { ConversationSettingsSchema } from "./proxySettings";
import { TlsSchema } from "./tls";

export const ProxySchema = z
    .object({
        listenAddress: z
            .union([z.ipv4(), z.ipv6()], { error: "an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::1" })
            .default("127.0.0.1")
            .describe("Host address the proxy publishes on (0.0.0.0 for every interface)."),
        port: num().pipe(z.number().int().min(1).max(65535)).default(8080).describe("Host port of the proxy; the only published port."),
        baseImage: imageRef()
            .default("debian:bookworm-slim")
            .describe(
                "BASE_IMAGE build argument for the proxy image. A change (like one of the proxy/ folder) starts a new proxy beside the old one, which hands its listening sockets over: no connection is refused.",
            ),
        configTemplate: z
            .string()
            .default("proxy/haproxy.cfg.tmpl")
            .describe(
                "HAProxy's config without its server lines (relative to the project folder). A change is applied to the running proxy by a seamless reload, not a restart.",
            ),
        conversations: ConversationSettingsSchema.prefault({}).describe(
            "Conversation pinning: the stick table's size and idle timeout, and whether keyless messages start pinned conversations.",
        ),
        tls: TlsSchema.prefault({}).describe("HTTPS in the proxy (docs/edge.md)."),
        edgeNetwork: dockerName
            .optional()
            .describe(
                "Behind an edge stack (several agents on one public port, docs/edge.md): the edge's Docker network (the edge stack's output edgeNetwork). The proxy's port holder joins it at run time (no restart), so the edge reaches this stack's proxy by the name <app>-proxy-port; the edge's routes name this stack's app.",
            ),
        allowRestart: bool()
            .default(false)
            .describe(
                "Maintenance: allow an update that replaces the container publishing the proxy's port (proxy.port or proxy.listenAddress changed, or the first update after the version that added the port holder), which refuses and closes client connections for a moment. Without it such an update fails before anything changes.",
            ),
    })
    .strict()
    .superRefine((p, ctx) => {
        if (p.tls.mode !== "off" && p.tls.port === p.port)
            ctx.addIssue({
                code: "custom",
                path: ["tls", "port"],
                message: `not proxy.port (${p.port}): HTTPS and plain HTTP listen on ports of their own`,
            });
    });
