// Import one of our JSON-LD answers (stdin) with the official DFC connector and print what it
// read, as JSON. argv[2]: {context URL: local file}; any other context URL is refused, so the
// connector fetches nothing.
import { readFileSync } from "node:fs";
import { Connector } from "@datafoodconsortium/connector";

const B = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#";
const files = JSON.parse(process.argv[2]);
const connector = new Connector();
connector.importer.documentLoader = {
  load: async (url) => {
    if (!(url in files)) throw new Error(`the answer sent the connector to fetch ${url}`);
    return JSON.parse(readFileSync(files[url], "utf8"));
  },
};
const objects = await connector.import(readFileSync(0, "utf8"));
const read = [];
for (const o of objects) {
  const item = { id: o.getSemanticId(), type: o.getSemanticType() };
  if (o.getStockLimitation) item.stockLimitation = o.getStockLimitation();
  if (o.getSku) item.sku = o.getSku();
  if (o.getName) item.name = o.getName();
  // The connector fails on a getPrice of an object with no price (an order line priced later).
  if (o.getPrice && o.getSemanticProperty(B + "hasPrice") !== undefined) {
    const price = o.getPrice();
    item.price = price ? { value: price.getQuantityValue(), vatRate: price.getVatRate() } : null;
  }
  read.push(item);
}
console.log(JSON.stringify(read));
