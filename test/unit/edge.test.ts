// An edge stack (several agent stacks behind one public port): its config, its routes as
// HAProxy lines, its template's checks, and what an agent stack behind it may set.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parseConfig, parseEdgeConfig, platformProblems } from "../../config/schema";
import { isEdgeConfig } from "../../config/edge";
import { withSettings, ConversationSettingsSchema } from "../../config/proxySettings";
import { edgeLines, edgeNetworkName, orderedRoutes, type EdgeRoute } from "../../core/edgeRoutes";
import { edgePreflightProblems, preflightProblems } from "../../components/preflight";
import { templateProbe } from "../support/preflightProbe";

const ROOT = path.join(__dirname, "..", "..");
const EDGE_TEMPLATE = fs.readFileSync(path.join(ROOT, "proxy", "haproxy-edge.cfg.tmpl"), "utf8");

const route = (host: string, app: string, pathPrefix?: string, stripPrefix = true): EdgeRoute => ({ host, app, pathPrefix, stripPrefix });

describe("edge stack: config", () => {
    it("is an edge stack when it has an edge section; its proxy defaults to the public port 80 on every interface", () => {
        expect(isEdgeConfig({ edge: {} })).to.equal(true);
        expect(isEdgeConfig({ agent: { version: "1.0.0" } })).to.equal(false);
        const cfg = parseEdgeConfig({ edge: { routes: [{ host: "support.example.com", app: "support" }] } });
        expect(cfg.app).to.equal("edge");
        expect(cfg.proxy).to.deep.include({ listenAddress: "0.0.0.0", port: 80, configTemplate: "proxy/haproxy-edge.cfg.tmpl" });
        expect(cfg.edge.routes[0]).to.deep.equal({ host: "support.example.com", app: "support", stripPrefix: true });
        expect(edgeNetworkName(cfg.app)).to.equal("edge-edge");
    });

    it("refuses bad routes, naming each field and what is allowed", () => {
        const bad = (raw: Record<string, unknown>) => () => parseEdgeConfig(raw);
        expect(bad({ edge: { routes: [] } })).to.throw(/edge\.routes: at least one route/);
        expect(bad({ edge: { routes: [{ host: "Support.Example.com", app: "support" }] } })).to.throw(
            /edge\.routes\.0\.host: a lower-case host name/,
        );
        expect(bad({ edge: { routes: [{ host: "a.example.com", app: "Support" }] } })).to.throw(/edge\.routes\.0\.app: lower-case letters/);
        expect(bad({ edge: { routes: [{ host: "a.example.com", app: "s", pathPrefix: "/sales/" }] } })).to.throw(
            /edge\.routes\.0\.pathPrefix: a path such as \/sales/,
        );
        expect(bad({ edge: { routes: [{ host: "a.example.com", app: "s", weight: 3 }] } })).to.throw(
            /edge\.routes\.0\.weight: not a known setting/,
        );
        expect(
            bad({
                edge: {
                    routes: [
                        { host: "a.example.com", app: "s" },
                        { host: "a.example.com", app: "t" },
                    ],
                },
            }),
        ).to.throw(/edge\.routes\.1: a second route for a\.example\.com/);
        expect(bad({ app: "edge", edge: { routes: [{ host: "a.example.com", app: "edge" }] } })).to.throw(
            /edge\.routes\.0\.app: the edge's own app/,
        );
        expect(bad({ edge: { routes: [{ host: "a.example.com", app: "s" }] }, agent: { version: "1.0.0" } })).to.throw(
            /agent: an edge stack declares no agent/,
        );
    });

    it("with HTTPS, refuses a routed host the certificate's hosts do not name", () => {
        expect(() =>
            parseEdgeConfig({
                edge: { routes: [{ host: "sales.example.com", app: "sales" }] },
                proxy: { tls: { mode: "acme", hosts: ["support.example.com"], acme: { email: "ops@example.com" } } },
            }),
        ).to.throw(/edge\.routes\.0\.host: sales\.example\.com is not in proxy\.tls\.hosts \(support\.example\.com\)/);
    });

    it("an agent stack names the edge's network (proxy.edgeNetwork); not on Swarm", () => {
        expect(parseConfig({ agent: { version: "1.0.0" }, proxy: { edgeNetwork: "edge-edge" } }).proxy.edgeNetwork).to.equal("edge-edge");
        expect(() => parseConfig({ agent: { version: "1.0.0" }, proxy: { edgeNetwork: "Edge Net" } })).to.throw(
            /proxy\.edgeNetwork: lower-case/,
        );
        const problems = platformProblems({
            platform: "swarm",
            swarm: {},
            agent: { image: "r/a", digest: "d" },
            proxy: { edgeNetwork: "edge-edge" },
        });
        expect(problems.map((p) => p.path.join("."))).to.include("proxy.edgeNetwork");
    });
});

describe("edge stack: routes as HAProxy lines", () => {
    it("the most specific route first: a prefix before its host's whole-host route, longer prefixes first", () => {
        const routes = [
            route("a.example.com", "support"),
            route("a.example.com", "sales", "/sales"),
            route("a.example.com", "b2b", "/sales/b2b"),
        ];
        expect(orderedRoutes(routes).map((r) => r.app)).to.deep.equal(["b2b", "sales", "support"]);
        const { rules } = edgeLines(routes);
        const order = rules.split("\n").map((l) => /use_backend (\S+)/.exec(l)![1]);
        expect(order).to.deep.equal(["route3_b2b", "route2_sales", "route1_support"]);
    });

    it("over HTTPS a route needs the Host header and the handshake's SNI to name its host; over plain HTTP the Host header", () => {
        const { rules } = edgeLines([route("support.example.com", "support")]);
        expect(rules).to.equal(
            "  use_backend route1_support if { req.hdr(host),field(1,:),lower -m str support.example.com } !{ ssl_fc } || " +
                "{ req.hdr(host),field(1,:),lower -m str support.example.com } { ssl_fc_sni -i support.example.com }",
        );
    });

    it("a prefix matches the path and what is under it, not a longer name, and is stripped unless told otherwise", () => {
        const { rules, backends } = edgeLines([route("a.example.com", "sales", "/sales"), route("a.example.com", "keep", "/v1.2", false)]);
        expect(rules).to.include("{ path_reg ^/sales(/|$) }");
        expect(rules).to.include("{ path_reg ^/v1\\.2(/|$) }");
        const regex = new RegExp("^/sales(/|$)");
        expect(["/sales", "/sales/telegram", "/sales?x=1".split("?")[0]].every((p) => regex.test(p))).to.equal(true);
        expect(regex.test("/salesforce")).to.equal(false);
        expect(backends).to.include("backend route1_sales\n");
        expect(backends).to.include("  http-request replace-path ^/sales/?(.*)$ /\\1");
        expect(backends).to.not.include("replace-path ^/v1");
        // The agent stack's proxy, by its port holder's name on the edge network.
        expect(backends).to.include("  server sales sales-proxy-port:8080 check inter 2s resolvers docker init-addr last,none");
    });

    it("the edge template gets the routes and keeps its no-route answer last", () => {
        const out = withSettings(EDGE_TEMPLATE, {
            conversations: ConversationSettingsSchema.parse({}),
            routes: [route("support.example.com", "support"), route("sales.example.com", "sales")],
        });
        expect(out).to.not.match(/\$\{EDGE_(RULES|BACKENDS)\}/);
        expect(out)
            .to.match(/^backend route1_support$/m)
            .and.to.match(/^backend route2_sales$/m);
        const frontend = out.slice(out.indexOf("frontend edge"));
        expect(frontend.indexOf("use_backend route1_support")).to.be.greaterThan(0);
        expect(frontend.indexOf("default_backend zdt_no_route")).to.be.greaterThan(frontend.indexOf("use_backend route2_sales"));
        // start-proxy appends the slot file's server lines to the last backend: not a route's.
        expect(
            out
                .trimEnd()
                .split("\n")
                .filter((l) => l.startsWith("backend "))
                .pop(),
        ).to.equal("backend zdt_slots");
    });

    it("a config template of one's own without the routes' lines fails before anything changes", () => {
        const cfg = parseEdgeConfig({ edge: { routes: [{ host: "a.example.com", app: "support" }] } });
        expect(edgePreflightProblems(cfg, ROOT, templateProbe(EDGE_TEMPLATE), false)).to.deep.equal([]);
        const without = EDGE_TEMPLATE.replace("${EDGE_RULES}", "");
        expect(edgePreflightProblems(cfg, ROOT, templateProbe(without), false).join("\n")).to.match(
            /proxy\.configTemplate: .* has no \$\{EDGE_BACKENDS\} and \$\{EDGE_RULES\} lines/,
        );
    });

    it("an agent stack whose edge network the engine lacks fails before anything changes, naming proxy.edgeNetwork", () => {
        const cfg = parseConfig({ agent: { version: "1.0.0", image: "r/a" }, proxy: { edgeNetwork: "edge-edge" } });
        const edgeProblems = (networks: string[]) =>
            preflightProblems(cfg, ROOT, templateProbe("", { hasNetwork: (name) => networks.includes(name) }), true).filter((p) =>
                p.includes("edgeNetwork"),
            );
        expect(edgeProblems(["edge-edge"])).to.deep.equal([]);
        expect(edgeProblems([]).join("\n")).to.match(
            /^proxy\.edgeNetwork: the Docker engine has no network edge-edge; deploy the edge stack first/,
        );
    });
});
