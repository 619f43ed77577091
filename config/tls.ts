// The stack config's proxy.tls section: HTTPS in the proxy itself (HAProxy terminates it),
// with a certificate and key the user gives as Pulumi secrets, or with certificates the
// proxy's certificate keeper gets and renews over ACME (Let's Encrypt by default).
import { z } from "zod";
import { num, bool } from "../core/values";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/** A host name: labels of letters, digits and dashes. */
export const hostName = z
    .string()
    .regex(
        /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
        "a lower-case host name such as agents.example.com (the name channels send webhooks to)",
    );

export const TLS_MODES = ["off", "certificate", "acme"] as const;

/** Let's Encrypt's production directory: the default ACME server. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

export const AcmeSchema = z
    .object({
        directory: z
            .string()
            .regex(/^https:\/\/[^\s/]+(\/\S*)?$/, "an https:// URL of an ACME directory")
            .default(LETS_ENCRYPT_DIRECTORY)
            .describe(
                "The ACME server's directory URL. Let's Encrypt's production server by default; its staging server (https://acme-staging-v02.api.letsencrypt.org/directory) while you try things, a private CA (step-ca, pebble) with proxy.tls.acme.caCertificate.",
            ),
        email: z
            .string()
            .regex(/^[^\s@/]+@[^\s@/]+\.[^\s@/]+$/, "an email address (the ACME account's contact)")
            .optional()
            .describe(
                "The ACME account's contact address (required with mode acme): the CA writes there about expiring certificates and policy changes.",
            ),
        caCertificate: z
            .string()
            .regex(PEM_CERTIFICATE, "a PEM certificate (-----BEGIN CERTIFICATE-----)")
            .optional()
            .describe(
                "The CA certificate that signs a private ACME server's own HTTPS certificate (not needed for Let's Encrypt). Trusted by the certificate keeper only.",
            ),
        renewBeforeDays: num()
            .pipe(z.number().int().min(1).max(60))
            .default(30)
            .describe("Renew a certificate this many days before it expires (Let's Encrypt's are valid 90 days)."),
        checkIntervalSeconds: num()
            .pipe(z.number().int().min(10).max(86400))
            .default(43200)
            .describe("How often the certificate keeper checks whether a renewal is due."),
        retrySeconds: num()
            .pipe(z.number().int().min(2).max(86400))
            .default(300)
            .describe(
                "After a failed issuance or renewal, the keeper tries again this much later (the CA's rate limits count failures too); the live certificate keeps serving meanwhile.",
            ),
        issueTimeoutSeconds: num()
            .pipe(z.number().int().min(10).max(1800))
            .default(180)
            .describe(
                "How long `pulumi up` waits for a certificate the hosts need (the first one, or one for a new host). It fails sooner after two failed attempts, quoting the CA's answer; the certificate already served stays.",
            ),
    })
    .strict();
export type AcmeConfig = z.output<typeof AcmeSchema>;

export const TlsSchema = z
    .object({
        mode: z
            .enum(TLS_MODES, { error: `one of ${TLS_MODES.join(", ")}` })
            .default("off")
            .describe(
                "off: plain HTTP on proxy.port (behind a TLS terminator of your own, or on loopback). certificate: the proxy serves HTTPS on proxy.tls.port with proxy.tls.certificate and proxy.tls.key, and plain HTTP on proxy.port redirects to it. acme: the same, with a certificate for proxy.tls.hosts that the proxy's certificate keeper gets over ACME (HTTP-01: the CA must reach proxy.port as port 80 of each host) and renews before expiry. Turning it on or off publishes another port: the port holder is replaced, which needs proxy.allowRestart once (docs/edge.md).",
            ),
        hosts: z
            .array(hostName)
            .default([])
            .describe(
                "The host names the agents are reached by over HTTPS (the webhook URL's host; at least one with mode certificate). The certificate must cover each: an update with one it does not cover fails before anything changes.",
            ),
        port: num()
            .pipe(z.number().int().min(1).max(65535))
            .default(443)
            .describe(
                "Host port of HTTPS (published on proxy.listenAddress beside proxy.port). Telegram delivers webhooks to 443, 80, 88 or 8443 only.",
            ),
        certificate: z
            .string()
            .regex(PEM_CERTIFICATE, "a PEM certificate (-----BEGIN CERTIFICATE-----), the host's first, then its chain")
            .optional()
            .describe(
                "The certificate in PEM, the host's own first, then the intermediate certificates. Set it from its file: `pulumi config set --secret --path proxy.tls.certificate < fullchain.pem`. A new one is put in place in the running proxy (HAProxy's runtime API): no reload, no connection closed.",
            ),
        key: z
            .string()
            .regex(PEM_KEY, "an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)")
            .optional()
            .describe(
                "The certificate's private key in PEM, as a secret: `pulumi config set --secret --path proxy.tls.key < privkey.pem` (never on a command line). Encrypted in the stack's config and state; in the proxy a file of mode 600 in its state volume.",
            ),
        redirectHttp: bool()
            .default(true)
            .describe(
                "With TLS on: plain HTTP on proxy.port answers 308 to the same URL over HTTPS (except /.well-known/acme-challenge/). false: plain HTTP is served too, as before.",
            ),
        acme: AcmeSchema.prefault({}).describe("Certificates over ACME (mode acme; docs/edge.md)."),
        minValidDays: num()
            .pipe(z.number().int().min(0).max(365))
            .default(14)
            .describe("The status view and the release report warn when the served certificate expires within this many days."),
    })
    .strict()
    .superRefine((t, ctx) => {
        if (t.mode === "off") return;
        if (t.hosts.length === 0)
            ctx.addIssue({
                code: "custom",
                path: ["hosts"],
                message: `at least one host name with mode ${t.mode} (the webhook URL's host)`,
            });
        if (t.mode === "acme") {
            if (!t.acme.email)
                ctx.addIssue({
                    code: "custom",
                    path: ["acme", "email"],
                    message: "required with mode acme: pulumi config set --path proxy.tls.acme.email ops@example.com",
                });
            for (const field of ["certificate", "key"] as const)
                if (t[field])
                    ctx.addIssue({
                        code: "custom",
                        path: [field],
                        message: `not with mode acme (the keeper gets the certificate): pulumi config rm --path proxy.tls.${field}`,
                    });
            return;
        }
        if (!t.certificate)
            ctx.addIssue({
                code: "custom",
                path: ["certificate"],
                message: "required with mode certificate: pulumi config set --secret --path proxy.tls.certificate < fullchain.pem",
            });
        if (!t.key)
            ctx.addIssue({
                code: "custom",
                path: ["key"],
                message: "required with mode certificate: pulumi config set --secret --path proxy.tls.key < privkey.pem",
            });
    });
export type TlsConfig = z.output<typeof TlsSchema>;
