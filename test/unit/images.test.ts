// Which image a retirement frees: the one kept at the retirement before, never the live
// release's or the one just kept (a roll back, or a release with the same content).
import { expect } from "chai";
import { imageToPrune } from "../../core/images";

const v1 = { id: "sha256:1", ref: "app-agent:1.0.0" };
const v2 = { id: "sha256:2", ref: "app-agent:2.0.0" };

describe("image retention", () => {
    it("removes the image kept before, once a newer retired image is kept", () => {
        expect(imageToPrune(v1, v2, "sha256:3")).to.equal(v1);
    });
    it("removes nothing at the first retirement", () => {
        expect(imageToPrune(null, v1, "sha256:2")).to.equal(undefined);
        expect(imageToPrune(undefined, v1, "sha256:2")).to.equal(undefined);
    });
    it("keeps an image the live release runs (a roll back to the kept release)", () => {
        expect(imageToPrune(v1, v2, "sha256:1")).to.equal(undefined);
    });
    it("keeps an image that is also the one kept now (same content, a new release id)", () => {
        expect(imageToPrune(v1, { ...v1, ref: "app-agent:1.0.1" }, "sha256:3")).to.equal(undefined);
    });
});
