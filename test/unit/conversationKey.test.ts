// Where a message's conversation key is (agent.conversation): the presets, a key of one's
// own, the rules the proxy gets, and clear errors for what HAProxy could not evaluate.
import { expect } from "chai";
import { parseConfig } from "../../config/schema";
import { conversationKeyOf, keyRules, keySamples, PRESETS } from "../../core/conversationKey";

const agent = { version: "1.0.0" };

describe("conversation keys (agent.conversation)", () => {
    it("defaults to the reference agent's X-Conversation-Id on /v1/chat", () => {
        const cfg = parseConfig({ agent });
        expect(conversationKeyOf(cfg.agent.conversation)).to.deep.equal(PRESETS["x-conversation-id"]);
    });

    it("reads a Telegram update's chat as an integer first (13-digit group ids), then as a string", () => {
        const key = conversationKeyOf(
            parseConfig({ agent: { ...agent, conversation: { preset: "telegram", paths: ["/tg"] } } }).agent.conversation,
        );
        expect(key.paths).to.deep.equal(["/tg"]);
        expect(keySamples(key).slice(0, 2)).to.deep.equal([
            "req.body,json_query('$.message.chat.id','int')",
            "req.body,json_query('$.message.chat.id')",
        ]);
        expect(keySamples(key)).to.have.length(6); // message, edited_message, callback_query.message
        const rules = keyRules(key, false);
        expect(rules[0]).to.equal("acl conversation_path path_beg /tg");
        // The body is read only when a JSON path is the key.
        expect(rules).to.include("option http-buffer-request");
        expect(rules.some((r) => r.startsWith("http-response set-header"))).to.equal(false);
    });

    it("reads a WhatsApp notification's sender, or a status update's recipient", () => {
        const key = conversationKeyOf({ preset: "whatsapp" });
        expect(key.names).to.deep.equal([
            "$.entry[0].changes[0].value.messages[0].from",
            "$.entry[0].changes[0].value.statuses[0].recipient_id",
        ]);
        expect(key.paths).to.deep.equal(["/"]);
    });

    it("takes a key of one's own: a header, a query parameter, a cookie", () => {
        const of = (from: string, name: string) =>
            keySamples(conversationKeyOf(parseConfig({ agent: { ...agent, conversation: { from, names: [name] } } }).agent.conversation));
        expect(of("header", "X-Chat-Id")).to.deep.equal(["req.hdr(x-chat-id)"]);
        expect(of("query", "chat_id")).to.deep.equal(["url_param(chat_id)"]);
        expect(of("cookie", "session")).to.deep.equal(["req.cook(session)"]);
        const rules = keyRules(conversationKeyOf({ preset: "x-conversation-id", from: "header", names: ["X-Chat-Id"] }), true);
        // A header key goes back in the answer, and pinKeyless gives a keyless message one.
        expect(rules).to.include("http-response set-header X-Chat-Id %[var(txn.conversation)] if { var(txn.conversation) -m found }");
        expect(rules[1]).to.match(/^http-request set-header X-Chat-Id %\[uuid\] if conversation_path/);
        // Every key is checked before it is pinned: at most 64 characters, no spaces.
        expect(rules).to.include(
            "http-request unset-var(txn.conversation) if { var(txn.conversation) -m found } !{ var(txn.conversation) -m reg ^[A-Za-z0-9._:-]{1,64}$ }",
        );
        // The switch's own requests (a slot named from inside the proxy) are no conversation,
        // and that is decided before the answer's header rule reads the key.
        const own = rules.indexOf(
            "http-request unset-var(txn.conversation) if { var(txn.conversation) -m found } { req.hdr(x-zdt-slot) -m found } { src 127.0.0.1 }",
        );
        expect(own).to.be.greaterThan(rules.findIndex((r) => r.startsWith("http-request set-var")));
    });

    it("refuses what the proxy could not evaluate, naming the setting and the form allowed", () => {
        const problems = (conversation: unknown) => {
            try {
                parseConfig({ agent: { ...agent, conversation } });
                return "";
            } catch (err) {
                return (err as Error).message;
            }
        };
        expect(problems({ preset: "signal" })).to.match(/agent\.conversation\.preset.*x-conversation-id.*telegram.*whatsapp/s);
        expect(problems({ from: "json", names: ["message.chat.id"] })).to.match(
            /agent\.conversation\.names\.0: "message\.chat\.id" is not a JSON path such as \$\.message\.chat\.id/,
        );
        expect(problems({ from: "json", names: ["$.message['chat']"] })).to.match(/agent\.conversation\.names\.0/);
        expect(problems({ from: "header", names: ["X Chat"] })).to.match(/agent\.conversation\.names\.0: "X Chat" is not a header name/);
        expect(problems({ from: "header" })).to.match(/agent\.conversation\.names: from and names go together/);
        expect(problems({ paths: ["telegram"] })).to.match(/agent\.conversation\.paths\.0: .*a path prefix starting with \//);
        expect(problems({ from: "json", names: ["$.a", "$.b", "$.c", "$.d", "$.e"] })).to.match(/agent\.conversation\.names/);
    });
});
