// Puts the ACME account's key where the certificate keeper finds it: a file of mode 600 in
// the proxy's state volume (proxy/acme-keeper.sh hands it to lego). The key is derived from
// a secret seed of the stack (core/acmeAccountKey.ts); it travels on a process's standard
// input only, never on a command line or in a log.
import { acmeAccountKey } from "../../core/acmeAccountKey";
import { ACME_ACCOUNT_KEY_FILE, ACME_DIR } from "../../core/proxyNames";
import { acmeAccountContract } from "../../contracts/acmeAccountContract";
import { writeProxyState } from "./proxyState";

const WRITE = `umask 077 && mkdir -p ${ACME_DIR} && cat > ${ACME_DIR}/account.key.new && mv ${ACME_DIR}/account.key.new ${ACME_ACCOUNT_KEY_FILE}`;

async function main(log: (line: string) => void): Promise<{ thumbprint: string }> {
    const input = acmeAccountContract.decode(process.env);
    const { pem, thumbprint } = acmeAccountKey(input.accountSeed);
    await writeProxyState(input, WRITE, pem);
    log(`account key in place (JWK thumbprint ${thumbprint})`);
    return { thumbprint };
}

if (require.main === module) {
    main((line) => process.stderr.write(`acme account: ${line}\n`)).then(
        (r) => process.stdout.write(JSON.stringify(r) + "\n"),
        (err: Error) => {
            process.stderr.write(`acme account: ${err.message}\n`);
            process.exit(1);
        },
    );
}
