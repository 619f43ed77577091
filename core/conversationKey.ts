// Where a message's conversation key is (agent.conversation), and the proxy rules that read
// it (pure). A channel's webhook names its chat in the body, not in a header of ours: a
// Telegram update in message.chat.id (or edited_message's, or a callback query's message's),
// a WhatsApp Cloud API notification in its first message's sender. The proxy pins every
// message carrying a valid key to the release that answered the conversation's first one;
// a message without one is balanced and takes no table entry.

export const KEY_SOURCES = ["header", "query", "cookie", "json"] as const;
export type KeySource = (typeof KEY_SOURCES)[number];

export interface ConversationKey {
    /** Path prefixes on which messages arrive; other requests are balanced and never pinned. */
    paths: string[];
    /** Where the key is: a request header, a query parameter, a cookie, or JSON paths in the body. */
    from: KeySource;
    /** The header, parameter or cookie name, or the JSON paths tried in order. */
    names: string[];
}

export const PRESETS = {
    /** The reference agent's: the X-Conversation-Id header on /v1/chat. */
    "x-conversation-id": { paths: ["/v1/chat"], from: "header", names: ["X-Conversation-Id"] },
    /** Telegram Bot API webhooks: the chat of a message, an edited message or a callback query's message. */
    telegram: {
        paths: ["/"],
        from: "json",
        names: ["$.message.chat.id", "$.edited_message.chat.id", "$.callback_query.message.chat.id"],
    },
    /** WhatsApp Cloud API webhooks: a message's sender, or a status update's recipient. */
    whatsapp: {
        paths: ["/"],
        from: "json",
        names: ["$.entry[0].changes[0].value.messages[0].from", "$.entry[0].changes[0].value.statuses[0].recipient_id"],
    },
} as const satisfies Record<string, ConversationKey>;
export type Preset = keyof typeof PRESETS;

/** The forms a name may take, by source (checked by the config schema; the proxy rules rely on them). */
export const NAME_FORMS: Record<KeySource, { pattern: RegExp; says: string }> = {
    header: { pattern: /^[A-Za-z0-9-]{1,64}$/, says: "a header name such as X-Chat-Id (letters, digits and -)" },
    query: { pattern: /^[A-Za-z0-9._-]{1,64}$/, says: "a query parameter name such as chat_id (letters, digits and ._-)" },
    cookie: { pattern: /^[A-Za-z0-9._-]{1,64}$/, says: "a cookie name such as session (letters, digits and ._-)" },
    json: {
        pattern: /^\$(\.[A-Za-z_][A-Za-z0-9_]{0,63}|\[\d{1,4}\]){1,16}$/,
        says: "a JSON path such as $.message.chat.id or $.entry[0].changes[0].value.messages[0].from (names and [index] steps)",
    },
};

/** A valid key: what the stick table keeps (up to 64 characters, no spaces). */
export const KEY_PATTERN = "^[A-Za-z0-9._:-]{1,64}$";

/** The HAProxy sample expressions that read a key, in the order they are tried. */
export function keySamples(key: ConversationKey): string[] {
    return key.names.flatMap((name) => {
        switch (key.from) {
            case "header":
                return [`req.hdr(${name.toLowerCase()})`];
            case "query":
                return [`url_param(${name})`];
            case "cookie":
                return [`req.cook(${name})`];
            case "json":
                // A number as an integer (Telegram's 13-digit chat ids would otherwise come out in
                // floating point, several chats on one key), a string as it is.
                return [`req.body,json_query('${name}','int')`, `req.body,json_query('${name}')`];
        }
    });
}

/**
 * The frontend's rules for a key: set the conversation variable from the first source that
 * has one on a message path, drop it unless it is a valid key; for a header key, the id
 * goes back in the answer's header, and `pinKeyless` gives a keyless message a new id.
 */
export function keyRules(key: ConversationKey, pinKeyless: boolean): string[] {
    const found = "{ var(txn.conversation) -m found }";
    const header = key.from === "header" ? key.names[0] : undefined;
    return [
        `acl conversation_path path_beg ${key.paths.join(" ")}`,
        ...(key.from === "json" ? ["option http-buffer-request"] : []),
        ...(header && pinKeyless
            ? [`http-request set-header ${header} %[uuid] if conversation_path !{ req.hdr(${header.toLowerCase()}) -m reg ${KEY_PATTERN} }`]
            : []),
        ...keySamples(key).map((sample) => `http-request set-var(txn.conversation) ${sample} if conversation_path !${found}`),
        `http-request unset-var(txn.conversation) if ${found} !{ var(txn.conversation) -m reg ${KEY_PATTERN} }`,
        // The switch's own requests (probes, the evaluation set's turns: a slot named from inside
        // the proxy) are no conversation: they count in no table and keep no release from retiring.
        `http-request unset-var(txn.conversation) if ${found} { req.hdr(x-zdt-slot) -m found } { src 127.0.0.1 }`,
        ...(header ? [`http-response set-header ${header} %[var(txn.conversation)] if ${found}`] : []),
    ];
}

/** agent.conversation as the stack config has it: a preset, or a source of its own; paths override either's. */
export interface KeySettings {
    preset: Preset;
    from?: KeySource;
    names?: string[];
    paths?: string[];
}

/** The key a stack's settings describe (pure). */
export function conversationKeyOf(s: KeySettings): ConversationKey {
    const preset = PRESETS[s.preset];
    const key =
        s.from && s.names
            ? { paths: ["/"], from: s.from, names: s.names }
            : { paths: [...preset.paths], from: preset.from, names: [...preset.names] };
    return { ...key, paths: s.paths ?? key.paths };
}
