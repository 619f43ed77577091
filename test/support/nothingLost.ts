// The assertion of a change under the strict load: no failed request, no truncated stream,
// no broken or failed conversation.
import { expect } from "chai";
import type { LoadReport } from "../../load/client";

export function expectNothingLost(report: LoadReport): void {
    expect(report.failed, JSON.stringify(report.failures)).to.equal(0);
    expect(report.streamsTruncated).to.equal(0);
    expect(report.conversationsBroken).to.equal(0);
    expect(report.conversationsFailed).to.equal(0);
}
