// The release guard rails pack (loaded by policies/index.ts). Run it with every preview and update:
//   pulumi preview --policy-pack policies --policy-pack-config policies/config/<stack>.json
// Enforcement levels and thresholds per stack live in policies/config/<stack>.json.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("zdt-release-guards", {
    enforcementLevel: "mandatory",
    policies,
});
