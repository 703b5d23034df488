// Renders /openapi.json as a plain list of operations (offline: no Swagger UI, no CDN).
"use strict";

function node(tag, text, cls) {
  const n = document.createElement(tag);
  if (text !== undefined) n.textContent = text;
  if (cls) n.className = cls;
  return n;
}

function resolve(schema, doc) {
  if (schema && schema.$ref) return doc.components.schemas[schema.$ref.split("/").pop()];
  return schema;
}

async function show() {
  const doc = await (await fetch("/openapi.json")).json();
  const main = document.getElementById("docs");
  main.replaceChildren(node("h2", doc.info.title + " " + doc.info.version), node("p", doc.info.description));
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const section = node("section", undefined, "operation");
      section.id = method + path;
      section.append(node("h3", method.toUpperCase() + " " + path), node("p", op.summary));
      if (op.description) section.append(node("p", op.description, "muted"));
      const body = op.requestBody && op.requestBody.content["application/json"];
      if (body) section.append(node("h4", "request body"),
                               node("pre", JSON.stringify(resolve(body.schema, doc), null, 2)));
      const table = node("table");
      for (const [status, answer] of Object.entries(op.responses)) {
        const row = node("tr");
        row.append(node("td", status), node("td", answer.description));
        table.append(row);
      }
      section.append(node("h4", "responses"), table);
      main.append(section);
    }
  }
}

show();
