// The official DFC connector places a Held order at a seller of ours, reads it back, completes it
// and reads it back again, as a hub platform built on it would. argv[2]: {base, token, orders,
// buyer, offer, files}: `files` maps the only context URLs the connector may load to local files;
// the connector may fetch nothing (its fetch function refuses), and only `base` is called.
// Prints what each step answered and read, as JSON.
import { readFileSync } from "node:fs";
import { Connector, SKOSConcept } from "@datafoodconsortium/connector";

const args = JSON.parse(process.argv[2]);
const V = "https://github.com/datafoodconsortium/taxonomies/releases/latest/download/vocabulary.rdf#";
const B = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#";
const connector = new Connector();
connector.importer.documentLoader = {
  load: async (url) => {
    if (!(url in args.files)) throw new Error(`the answer sent the connector to fetch ${url}`);
    return JSON.parse(readFileSync(args.files[url], "utf8"));
  },
};
connector.setDefaultFetchFunction(async (id) => { throw new Error(`the connector tried to fetch ${id}`); });

async function call(method, url, body, etag) {
  if (!url.startsWith(args.base + "/")) throw new Error(`not our server: ${url}`);
  const headers = { Authorization: `Bearer ${args.token}`, Accept: "application/ld+json" };
  if (body) headers["Content-Type"] = "application/ld+json";
  if (etag) headers["If-Match"] = etag;
  const r = await fetch(url, { method, headers, body });
  return { status: r.status, location: r.headers.get("Location"), etag: r.headers.get("ETag"), text: await r.text() };
}

async function read(text) {
  // A fresh connector store each time, so what is read is what the server answered.
  const objects = await connector.import(text);
  const order = objects.find((o) => o.getSemanticType() === "dfc-b:Order" || o.getSemanticType() === B + "Order");
  const lines = objects.filter((o) => o.getSemanticType() === "dfc-b:OrderLine" || o.getSemanticType() === B + "OrderLine");
  const status = order.getSemanticProperty(B + "hasOrderStatus") ?? order.getSemanticProperty("dfc-b:hasOrderStatus");
  const expand = (iri) => connector.getSemantizer().expand(String(iri));
  return { order, lines, seen: { id: order.getSemanticId(), status: expand(status),
    lines: lines.map((l) => ({ quantity: l.getQuantity(), offer: String(l.getSemanticProperty(B + "concerns") ?? "") })) } };
}

const out = {};
const buyer = connector.createEnterprise({ semanticId: args.buyer });
const offer = connector.createOffer({ semanticId: args.offer });
// A new order is named by its collection's URL, as Open Food Network posts it: the server mints its IRI.
const order = connector.createOrder({ semanticId: args.orders, client: buyer,
                                      orderStatus: new SKOSConcept({ connector, semanticId: V + "Held" }) });
const line = connector.createOrderLine({ semanticId: `${args.orders}/new/line-1`, offer, quantity: 2, order });
order.addLine(line);
const posted = await call("POST", args.orders, await connector.export([order, line]));
out.post = { status: posted.status, location: posted.location, text: posted.status === 201 ? "" : posted.text };
if (posted.status !== 201) { console.log(JSON.stringify(out)); process.exit(0); }

const first = await call("GET", posted.location);
const held = await read(first.text);
out.read = held.seen;

held.order.setOrderStatus(new SKOSConcept({ connector, semanticId: V + "Complete" }));
const put = await call("PUT", posted.location, await connector.export([held.order, ...held.lines]), first.etag);
out.put = { status: put.status, text: put.status === 200 ? "" : put.text };
out.readAgain = (await read((await call("GET", posted.location)).text)).seen;
console.log(JSON.stringify(out));
