// The engine is real: `pulumi up` with the built CLI, the language host and the
// docker, command and random plugins against the local Docker engine.
import { expect } from "chai";
import * as path from "path";
import { TestStack, freePort, mustRun, uniqueName } from "../support/pulumi";

describe("real engine smoke test", function () {
    this.timeout(900_000);
    const prefix = uniqueName("zdtsmoke");
    const stack = new TestStack(path.join(__dirname, "..", "fixtures", "smoke"), prefix);
    let port: number;

    before(async () => {
        port = await freePort();
        await stack.init({ prefix, hostPort: String(port) });
    });

    after(async () => {
        await stack.remove();
    });

    it("deploys an image, a container, a command and a random password", async () => {
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);

        const res = await fetch(`http://127.0.0.1:${port}/`);
        expect(res.status).to.equal(200);
        expect((await res.text()).trim()).to.equal("smoke-ok");

        const plain = await stack.outputs();
        expect(plain.containerName).to.equal(`${prefix}-site`);
        expect(plain.tokenValue).to.equal("[secret]");
        const secret = await stack.outputs(true);
        expect(secret.probeOutput).to.equal("smoke-ok"); // the command really ran, inside the container
        expect(secret.tokenValue).to.match(/^[A-Za-z0-9]{24}$/);
    });

    it("destroy leaves no container or network of the stack", async () => {
        const destroyed = await stack.remove();
        expect(destroyed.code, destroyed.stdout + destroyed.stderr).to.equal(0);
        const containers = await mustRun("docker", ["ps", "-a", "-q", "--filter", `label=zdt.stack=${prefix}`]);
        expect(containers.stdout.trim()).to.equal("");
        const networks = await mustRun("docker", ["network", "ls", "-q", "--filter", `name=${prefix}`]);
        expect(networks.stdout.trim()).to.equal("");
        // Nor its image (the provider leaves images; the clean-up removes the stack's own).
        expect(await stack.images()).to.deep.equal([]);
    });
});
