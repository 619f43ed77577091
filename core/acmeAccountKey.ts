// The ACME account's key from a secret seed (a RandomPassword of the stack): an EC P-256
// private key, the same for the same seed, so the key lives in the stack's state as a
// secret and the certificate keeper's copy can always be written again.
import * as crypto from "crypto";

// The order of P-256's group: a private key is a number from 1 to N - 1.
const N = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

/** The account key (SEC1 PEM, "EC PRIVATE KEY", as lego reads it) and its JWK thumbprint (RFC 7638, public). */
export function acmeAccountKey(seed: string): { pem: string; thumbprint: string } {
    if (seed.length < 32) throw new Error("the account key's seed must be at least 32 characters");
    const digest = BigInt("0x" + crypto.createHash("sha256").update(`zdt acme account\n${seed}`).digest("hex"));
    const d = Buffer.from(((digest % (N - 1n)) + 1n).toString(16).padStart(64, "0"), "hex");
    const ecdh = crypto.createECDH("prime256v1");
    ecdh.setPrivateKey(d);
    const pub = ecdh.getPublicKey(); // 0x04 || x || y
    const jwk = {
        kty: "EC",
        crv: "P-256",
        x: pub.subarray(1, 33).toString("base64url"),
        y: pub.subarray(33, 65).toString("base64url"),
    };
    const key = crypto.createPrivateKey({ key: { ...jwk, d: d.toString("base64url") }, format: "jwk" });
    const thumbprint = crypto
        .createHash("sha256")
        .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
        .digest("base64url");
    return { pem: key.export({ type: "sec1", format: "pem" }).toString(), thumbprint };
}
