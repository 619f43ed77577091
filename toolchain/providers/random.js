#!/usr/bin/env node
// Local `random` provider: RandomPassword, RandomString and RandomId with the
// inputs, defaults and outputs of @pulumi/random 4.x. Every input change replaces.
"use strict";

const crypto = require("crypto");
const { serve, unwrap, changedKeys } = require("./lib");

const CHARSETS = { lower: "abcdefghijklmnopqrstuvwxyz", upper: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", numeric: "0123456789" };
const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

function pick(alphabet, n) {
    let out = "";
    for (let i = 0; i < n; i++) out += alphabet[crypto.randomInt(alphabet.length)];
    return out;
}

function stringDefaults(inputs) {
    return {
        lower: true,
        upper: true,
        numeric: true,
        special: true,
        minLower: 0,
        minUpper: 0,
        minNumeric: 0,
        minSpecial: 0,
        ...inputs,
    };
}

function checkString(news) {
    const inputs = stringDefaults(unwrap(news));
    const failures = [];
    if (!Number.isInteger(inputs.length) || inputs.length < 1)
        failures.push({ property: "length", reason: "length must be a whole number of at least 1" });
    const mins = inputs.minLower + inputs.minUpper + inputs.minNumeric + inputs.minSpecial;
    if (mins > inputs.length)
        failures.push({ property: "length", reason: `length ${inputs.length} is less than the sum of the minimums (${mins})` });
    return { inputs, failures };
}

function generate(i) {
    const special = i.overrideSpecial !== undefined ? i.overrideSpecial : DEFAULT_SPECIAL;
    const classes = [
        [i.lower, CHARSETS.lower, i.minLower],
        [i.upper, CHARSETS.upper, i.minUpper],
        [i.numeric, CHARSETS.numeric, i.minNumeric],
        [i.special, special, i.minSpecial],
    ].filter(([on, set]) => on && set.length > 0);
    if (classes.length === 0) throw new Error("at least one of lower, upper, numeric or special must be enabled");
    let chars = classes.map(([, set, min]) => pick(set, min)).join("");
    chars += pick(classes.map(([, set]) => set).join(""), i.length - chars.length);
    // Shuffle so that the minimum characters do not sit at fixed positions.
    const a = chars.split("");
    for (let k = a.length - 1; k > 0; k--) {
        const j = crypto.randomInt(k + 1);
        [a[k], a[j]] = [a[j], a[k]];
    }
    return a.join("");
}

// Inputs of the random resources; `olds` also holds outputs (result, hex...), never compared.
const INPUTS = [
    "length",
    "lower",
    "upper",
    "numeric",
    "number",
    "special",
    "minLower",
    "minUpper",
    "minNumeric",
    "minSpecial",
    "overrideSpecial",
    "keepers",
    "byteLength",
    "prefix",
];

const replaceOnAnyChange = (olds, news) => {
    const keys = changedKeys(olds, news, INPUTS);
    return { changes: keys.length > 0, replaces: keys };
};

const randomString = {
    check: checkString,
    diff: replaceOnAnyChange,
    create: async (inputs) => {
        const result = generate(inputs);
        return { id: crypto.randomUUID(), outs: { ...inputs, result } };
    },
};

const randomId = {
    check: (news) => {
        const inputs = unwrap(news);
        const ok = Number.isInteger(inputs.byteLength) && inputs.byteLength >= 1;
        return { inputs, failures: ok ? [] : [{ property: "byteLength", reason: "byteLength must be a whole number of at least 1" }] };
    },
    diff: replaceOnAnyChange,
    create: async (inputs) => {
        const bytes = crypto.randomBytes(inputs.byteLength);
        const prefix = inputs.prefix || "";
        const b64Url = bytes.toString("base64url");
        return {
            id: b64Url,
            outs: {
                ...inputs,
                b64Url,
                b64Std: prefix + bytes.toString("base64"),
                hex: prefix + bytes.toString("hex"),
                dec: prefix + BigInt("0x" + bytes.toString("hex")).toString(),
            },
        };
    },
};

serve("random", "4.21.2", {
    "random:index/randomPassword:RandomPassword": randomString,
    "random:index/randomString:RandomString": randomString,
    "random:index/randomId:RandomId": randomId,
});
