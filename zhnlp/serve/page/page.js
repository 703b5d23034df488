// The try-it page: no build step, no external files. Text reaches the DOM only through
// textContent / createTextNode, never innerHTML, so whatever the user or the model sends is shown as text.
"use strict";

const PALETTE = ["#ffd8a8", "#b2f2bb", "#a5d8ff", "#eebefa", "#ffec99", "#c3fae8", "#ffc9c9", "#d0bfff"];
let models = [];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "style") node.style.cssText = value; else node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function colour(type, labels) {
  let i = labels.indexOf(type);
  if (i < 0) i = [...type].reduce((h, c) => (h * 31 + c.codePointAt(0)) >>> 0, 7);
  return PALETTE[i % PALETTE.length];
}

// NER: the text with each entity wrapped in a <mark> in place. The offsets count Python
// characters (code points), not UTF-16 units: slice an array of code points (emoji and all).
function renderNer(text, entities, labels) {
  const chars = Array.from(text);
  const box = el("div", {class: "ner-text"});
  const sorted = [...entities].sort((a, b) => a.start - b.start || b.end - a.end);
  let at = 0;
  for (const ent of sorted) {
    if (ent.start < at) continue;  // nested or overlapping spans: listed in the table, highlighted once
    box.append(chars.slice(at, ent.start).join(""));
    const mark = el("mark", {class: "entity", "data-type": ent.type, title: ent.type,
                             style: "background:" + colour(ent.type, labels)},
                    chars.slice(ent.start, ent.end).join(""), el("span", {class: "type"}, ent.type));
    box.append(mark);
    at = ent.end;
  }
  box.append(chars.slice(at).join(""));
  const table = el("table", {class: "entities"}, el("tr", {}, el("th", {}, "type"), el("th", {}, "text"),
                                                      el("th", {}, "start"), el("th", {}, "end")));
  for (const ent of entities) {
    table.append(el("tr", {}, el("td", {}, ent.type), el("td", {}, ent.text), el("td", {}, ent.start),
                    el("td", {}, ent.end)));
  }
  return el("div", {}, box, entities.length ? table : el("p", {class: "muted"}, "no entities"));
}

function bars(rows, chosen) {
  const box = el("div", {class: "bars"});
  for (const [label, score] of rows) {
    const pct = Math.max(0, Math.min(1, Number(score))) * 100;
    box.append(el("span", {class: chosen.has(label) ? "label chosen" : "label"}, label),
               el("div", {class: "bar-track"}, el("div", {class: "bar", "data-label": label,
                                                          style: "width:" + pct.toFixed(1) + "%"})),
               el("span", {class: "score"}, Number(score).toFixed(4)));
  }
  return box;
}

// Classification: {label, prob, top_k, probs} (single label) or {labels, probs} (multi-label).
function renderClassify(pred) {
  const rows = pred.probs ? Object.entries(pred.probs) : (pred.top_k || []);
  rows.sort((a, b) => b[1] - a[1]);
  const chosen = new Set(pred.labels || (pred.label !== undefined ? [pred.label] : []));
  return bars(rows, chosen);
}

// Keywords: [[keyword, score], ...] best first; bars relative to the best score.
function renderKeywords(pred) {
  if (!pred.length) return el("p", {class: "muted"}, "no keywords");
  const top = Math.max(...pred.map(p => Number(p[1])), 1e-9);
  const box = el("div", {class: "bars keywords"});
  for (const [kw, score] of pred) {
    box.append(el("span", {class: "label"}, kw),
               el("div", {class: "bar-track"}, el("div", {class: "bar", "data-label": kw,
                                                          style: "width:" + (100 * Number(score) / top).toFixed(1) + "%"})),
               el("span", {class: "score"}, Number(score).toFixed(4)));
  }
  return box;
}

// KBQA: {answer, answers, entity, predicate, score, mention, ...}; unanswered: {answer: null, reason}.
function renderKbqa(pred) {
  const dl = el("dl", {class: "kbqa"});
  const row = (name, value, cls) => dl.append(el("dt", {}, name), el("dd", cls ? {class: cls} : {}, value));
  row("answer", pred.answer === null || pred.answer === undefined ? "(no answer)" : pred.answer, "answer");
  if (pred.answers && pred.answers.length > 1) row("all answers", pred.answers.join("; "));
  if (pred.entity) row("entity", pred.entity);
  if (pred.predicate) row("predicate", pred.predicate);
  if (pred.mention) row("mention", pred.mention);
  if (typeof pred.score === "number") row("score", pred.score.toFixed(4));
  if (pred.reason) row("reason", pred.reason);
  return dl;
}

function taskOf(task, pred) {
  if (task !== "unknown") return task;
  if (pred && typeof pred === "object" && "answer" in pred) return "kbqa";
  return task;
}

// One prediction of the model of `task` for `text` -> a DOM node.
function render(task, text, pred, labels) {
  switch (taskOf(task, pred)) {
    case "ner": return renderNer(text, pred, labels || []);
    case "classify": return renderClassify(pred);
    case "keywords": return renderKeywords(pred);
    case "kbqa": return renderKbqa(pred);
    default: return el("pre", {}, JSON.stringify(pred, null, 2));
  }
}

function current() {
  return models.find(m => m.name === document.getElementById("model").value) || models[0];
}

function setStatus(message, isError) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.className = isError ? "error" : "";
}

async function predict() {
  const model = current();
  const text = document.getElementById("text").value;
  const result = document.getElementById("result");
  setStatus("…");
  const started = performance.now();
  try {
    const response = await fetch("/models/" + encodeURIComponent(model.name) + "/predict", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({texts: [text]})});
    const body = await response.json();
    if (!response.ok) throw new Error(response.status + ": " + body.error);
    const pred = body.predictions[0];
    result.replaceChildren(render(model.task, text, pred, model.labels));
    document.getElementById("raw").textContent = JSON.stringify(pred, null, 2);
    setStatus(`${model.name}: ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    result.replaceChildren();
    setStatus(String(error.message || error), true);
  }
}

async function start() {
  const select = document.getElementById("model");
  try {
    models = await (await fetch("/models")).json();
  } catch (error) {
    setStatus("cannot reach the server: " + error, true);
    return;
  }
  for (const m of models) select.append(el("option", {value: m.name}, `${m.name} (${m.task})`));
  const info = () => {
    const m = current();
    document.getElementById("model-info").textContent =
      [m.task, m.encoder, m.labels.length ? m.labels.length + " labels" : ""].filter(Boolean).join(" · ");
  };
  select.addEventListener("change", info);
  info();
  document.getElementById("submit").addEventListener("click", predict);
  document.getElementById("text").addEventListener("keydown", e => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) predict();
  });
  document.body.dataset.ready = "true";
}

window.zhnlpRender = render;  // for tests and the console
start();
