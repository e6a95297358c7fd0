// Read JSON-LD documents with jsonld.js (the JavaScript JSON-LD 1.1 processor) and print each as
// N-Quads. stdin: a JSON array of documents; argv[2]: {context URL: local file}, the only
// documents the loader holds. Any other URL fails: nothing is fetched.
import { readFileSync } from "node:fs";
import jsonld from "jsonld";

const files = JSON.parse(process.argv[2]);
const documentLoader = async (url) => {
  if (!(url in files)) throw new Error(`the document sent jsonld.js to fetch ${url}`);
  return { contextUrl: null, documentUrl: url, document: JSON.parse(readFileSync(files[url], "utf8")) };
};
const docs = JSON.parse(readFileSync(0, "utf8"));
const out = [];
for (const doc of docs) {
  out.push(await jsonld.toRDF(doc, { format: "application/n-quads", documentLoader, safe: true }));
}
console.log(JSON.stringify(out));
