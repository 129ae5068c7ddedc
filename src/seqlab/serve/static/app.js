// seqlab playground: five tabs over the JSON API of `seqlab serve`. Plain JavaScript, no libraries;
// every text that comes from a model or a user is inserted with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.setAttribute("class", v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function status(id, message, kind = "") {
  const node = $(id);
  node.textContent = message;
  node.className = "status " + kind;
}

// ---------------------------------------------------------------------------------------- token
// A server started with --token answers 401 to /api/* calls without `Authorization: Bearer TOKEN`.
// The page then asks for the token once (one form, however many calls were refused), keeps it in
// sessionStorage (this tab only, gone when the tab closes) and sends the refused calls again.
const TOKEN_KEY = "seqlab-token";
let token = sessionStorage.getItem(TOKEN_KEY);
let asking = null;   // the promise of the token form while it is shown

function askToken(message) {
  if (!asking) {
    asking = new Promise((resolve) => {
      const form = $("token-form");
      status("token-status", message, "error");
      $("token-input").value = "";
      form.hidden = false;
      $("token-input").focus();
      form.onsubmit = (ev) => {
        ev.preventDefault();
        const typed = $("token-input").value.trim();
        if (!typed) return;
        form.hidden = true;
        asking = null;
        resolve(typed);
      };
    });
  }
  return asking;
}

// fetch with the token; a 401 asks for it and tries again.
async function request(path, options = {}) {
  for (;;) {
    const sent = token;
    const headers = { ...(options.headers || {}) };
    if (sent) headers.Authorization = "Bearer " + sent;
    const res = await fetch(path, { ...options, headers });
    if (res.status !== 401) return res;
    if (token === sent) {                    // not replaced by another call meanwhile: ask
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
      token = await askToken(sent ? "That token was not accepted; type it again."
                                  : "This server needs a token: ask whoever started it. The page keeps it for this tab.");
      sessionStorage.setItem(TOKEN_KEY, token);
    }
  }
}

// POST JSON -> the parsed answer; an {"error"} answer becomes a thrown Error with its line.
async function api(path, body) {
  const res = await request(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) throw new Error((data && data.error) || `HTTP ${res.status}`);
  return data;
}

// One form's request: its own status line, its old results cleared first (and on an error), so
// nothing on the page answers an earlier question. `work` may return a note for the status line.
async function submit(form, statusId, busyText, work, clear = () => {}) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  clear();
  status(statusId, busyText, "busy");
  try {
    status(statusId, (await work()) || "");
  } catch (e) {
    clear();
    status(statusId, e.message, "error");
  } finally {
    if (button) button.disabled = false;
  }
}

const num = (id) => Number($(id).value);
const optionalInt = (id) => ($(id).value === "" ? null : parseInt($(id).value, 10));

// ------------------------------------------------------------------------------------------ tabs
const TABS = ["names", "text", "words", "sentences", "translation"];

function showTab(name) {
  if (!TABS.includes(name)) name = "names";
  for (const t of TABS) {
    $("tab-" + t).hidden = t !== name;
    $("tab-btn-" + t).setAttribute("aria-selected", String(t === name));
  }
}

for (const b of document.querySelectorAll("nav button")) {
  b.addEventListener("click", () => { history.replaceState(null, "", "#" + b.dataset.tab); showTab(b.dataset.tab); });
}
window.addEventListener("hashchange", () => showTab(location.hash.slice(1)));

function bindRange(id) {
  const show = () => { $(id + "-out").textContent = Number($(id).value).toFixed(2); };
  $(id).addEventListener("input", show);
  show();
}

function fillSelect(id, names, emptyText, statusId) {
  const select = $(id);
  select.replaceChildren(...names.map((n) => el("option", { value: n, text: n })));
  const form = select.closest("section").querySelectorAll("form button[type=submit]");
  if (!names.length) {
    status(statusId, emptyText);
    form.forEach((b) => { b.disabled = true; });
  }
}

// ----------------------------------------------------------------------------------------- names
bindRange("names-temperature");

async function watchNames() {
  let s;
  try { s = await api("/api/names/status"); } catch (e) { status("names-status", e.message, "error"); return; }
  const go = $("names-go");
  const select = $("names-language");
  if (select.options.length === 1) {
    for (const lang of s.languages) select.append(el("option", { value: lang, text: lang + " surnames" }));
  }
  if (s.state === "ready") {
    go.disabled = false;
    if ($("names-status").classList.contains("busy")) status("names-status", "");
    return;
  }
  go.disabled = true;
  if (s.state === "loading" || s.state === "training") {
    status("names-status", s.state === "training" ? "Training the names model (first run only): " + s.message
                                                 : "Loading the names model…", "busy");
    setTimeout(watchNames, 2000);
  } else if (s.state === "off") {
    status("names-status", "No names model is served: start seqlab serve without --run, or with --names.");
  } else {
    status("names-status", s.message, "error");
  }
}

$("names-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit(ev.target, "names-status", "Sampling…", async () => {
    const r = await api("/api/names", {
      n: num("names-n"), language: $("names-language").value || null, start: $("names-start").value,
      temperature: num("names-temperature"), seed: optionalInt("names-seed"), allow_known: $("names-known").checked,
    });
    $("names-list").replaceChildren(...r.names.map((name, i) => r.novel[i]
      ? el("li", { class: "novel" }, el("span", { class: "name", text: name }), el("span", { class: "badge", text: "new" }))
      : el("li", { class: "known", title: "in the training list" }, el("span", { class: "name", text: name }))));
    if (r.names.length < num("names-n")) return `only ${r.names.length} names found; raise the temperature`;
  }, () => $("names-list").replaceChildren());
});

// ------------------------------------------------------------------------------------------ text
bindRange("text-temperature");
let streaming = null;   // the AbortController of the stream being read

function setStreaming(on) {
  $("text-go").disabled = on;
  $("text-stop").disabled = !on;
}

$("text-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = $("text-out");
  const prime = $("text-prime").value;
  const params = new URLSearchParams({ run: $("text-run").value, prime, length: $("text-length").value,
                                       temperature: $("text-temperature").value });
  if ($("text-seed").value !== "") params.set("seed", $("text-seed").value);
  out.textContent = prime;
  out.dataset.chunks = "0";
  out.dataset.state = "streaming";
  streaming = new AbortController();
  setStreaming(true);
  status("text-status", "Writing…", "busy");
  try {
    const res = await request("/api/lm/stream?" + params, { signal: streaming.signal });
    if (!res.ok) {
      let line = `HTTP ${res.status}`;
      try { line = (await res.json()).error; } catch (e) { /* keep the status */ }
      throw new Error(line);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let ended = false;
    while (!ended) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {       // one server-sent event
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let type = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        const payload = data ? JSON.parse(data) : {};
        if (type === "message") {
          out.textContent += payload.text;
          out.dataset.chunks = String(Number(out.dataset.chunks) + 1);
        } else if (type === "error") {
          throw new Error(payload.error);
        } else if (type === "end") {
          ended = true;
        }
      }
    }
    out.dataset.state = "done";
    status("text-status", `${out.textContent.length - prime.length} characters drawn`);
  } catch (e) {
    if (e.name === "AbortError") {
      out.dataset.state = "stopped";
      status("text-status", `Stopped after ${out.textContent.length - prime.length} characters`);
    } else {
      out.dataset.state = "error";
      status("text-status", e.message, "error");
    }
  } finally {
    streaming = null;
    setStreaming(false);
  }
});

$("text-stop").addEventListener("click", () => { if (streaming) streaming.abort(); });

// ----------------------------------------------------------------------------------------- words
function ranked(listId, results) {
  $(listId).replaceChildren(...results.map((r) =>
    el("li", {}, el("span", { class: "word", text: r.word }), el("span", { class: "score", text: r.score.toFixed(3) }))));
}

$("similar-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit(ev.target, "similar-status", "Searching…", async () => {
    const r = await api("/api/embed/similar", { vectors: $("words-vectors").value, word: $("similar-word").value.trim(),
                                                topn: num("similar-topn") });
    ranked("similar-out", r.results);
  }, () => $("similar-out").replaceChildren());
});

$("analogy-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit(ev.target, "analogy-status", "Solving…", async () => {
    const r = await api("/api/embed/analogy", { vectors: $("words-vectors").value, query: $("analogy-query").value,
                                                topn: num("analogy-topn") });
    ranked("analogy-out", r.results);
  }, () => $("analogy-out").replaceChildren());
});

// Label placement: each word's label takes the first of eight spots around its dot that overlaps
// no label placed before it, no dot, no arrow and no edge; when all eight are taken, the nearest
// free spot on rings further out, joined to its dot by a thin leader line. Arrows give way last:
// a label may cross one when nothing else is free.
const SPOTS = [[7, -6, "start"], [7, 14, "start"], [-7, -6, "end"], [-7, 14, "end"],
               [0, -10, "middle"], [0, 20, "middle"], [10, 4, "start"], [-10, 4, "end"]];

function labelBox(x, y, dx, dy, anchor, w, h) {
  const left = anchor === "start" ? x + dx : anchor === "end" ? x + dx - w : x + dx - w / 2;
  return { x0: left - 1, x1: left + w + 1, y0: y + dy - h * 0.8 - 1, y1: y + dy + h * 0.2 + 1 };
}

const overlaps = (a, b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

function crosses(box, [ax, ay, bx, by]) {      // does the segment a-b pass through the box?
  let t0 = 0, t1 = 1;
  const dx = bx - ax, dy = by - ay;
  for (const [p, q] of [[-dx, ax - box.x0], [dx, box.x1 - ax], [-dy, ay - box.y0], [dy, box.y1 - ay]]) {
    if (p === 0) { if (q < 0) return false; continue; }
    const t = q / p;
    if (p < 0) t0 = Math.max(t0, t); else t1 = Math.min(t1, t);
    if (t0 > t1) return false;
  }
  return true;
}

function candidates(x, y, w, h) {
  const out = SPOTS.map(([dx, dy, anchor]) => ({ dx, dy, anchor, box: labelBox(x, y, dx, dy, anchor, w, h) }));
  for (let r = 24; r <= 160; r += 12) {                     // rings further out, 16 directions each
    for (let k = 0; k < 16; k++) {
      const a = (k / 16) * 2 * Math.PI, dx = r * Math.cos(a), dy = r * Math.sin(a) + h * 0.3;
      const anchor = dx > 4 ? "start" : dx < -4 ? "end" : "middle";
      out.push({ dx, dy, anchor, box: labelBox(x, y, dx, dy, anchor, w, h), leader: true });
    }
  }
  return out;
}

function placeLabels(items, segments, W, H) {
  const taken = items.map(({ x, y }) => ({ x0: x - 4, x1: x + 4, y0: y - 4, y1: y + 4 }));   // the dots
  const inView = (b) => b.x0 >= 0 && b.x1 <= W && b.y0 >= 0 && b.y1 <= H;
  const clear = (b) => inView(b) && !taken.some((t) => overlaps(t, b));
  for (const { x, y, text, group } of items) {
    let w = 7 * text.textContent.length, h = 14;
    try { const bb = text.getBBox(); if (bb.width) { w = bb.width; h = bb.height; } } catch (e) { /* not rendered */ }
    const all = candidates(x, y, w, h);
    const spot = all.find((c) => clear(c.box) && !segments.some((s) => crosses(c.box, s)))
              || all.find((c) => clear(c.box)) || all[0];             // nowhere free: as before
    text.setAttribute("x", x + spot.dx);
    text.setAttribute("y", y + spot.dy);
    text.setAttribute("text-anchor", spot.anchor);
    if (spot.leader) {
      const b = spot.box, tx = Math.min(Math.max(x, b.x0), b.x1), ty = Math.min(Math.max(y, b.y0), b.y1);
      group.insertBefore(el("svg:line", { class: "leader", x1: x, y1: y, x2: tx, y2: ty }), group.firstChild);
    }
    taken.push(spot.box);
  }
}

function drawMap(points, pairs) {
  const W = 640, H = 440, pad = 50;
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const sy = (y) => H - pad - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * pad);
  const at = Object.fromEntries(points.map((p) => [p.word, [sx(p.x), sy(p.y)]]));
  const svg = el("svg:svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "2-D map of words" });
  const marker = el("svg:marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7",
                                    markerHeight: "7", orient: "auto-start-reverse" },
                    el("svg:path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#2457c5" }));
  svg.append(el("svg:defs", {}, marker));
  const segments = [];
  for (const [a, b] of pairs) {
    if (!at[a] || !at[b]) continue;
    const [ax, ay] = at[a], [bx, by] = at[b];
    const len = Math.hypot(bx - ax, by - ay) || 1, cut = 6 / len;      // stop short of the target dot
    segments.push([ax, ay, bx, by]);
    svg.append(el("svg:line", { class: "pair", x1: ax, y1: ay, x2: bx - (bx - ax) * cut, y2: by - (by - ay) * cut,
                                stroke: "#2457c5", "stroke-width": "1.5", "marker-end": "url(#arrow)" }));
  }
  const items = points.map((p) => {
    const [x, y] = at[p.word];
    const text = el("svg:text", { x: x + 7, y: y - 6, text: p.word });
    const group = el("svg:g", { class: "point" }, el("svg:circle", { cx: x, cy: y, r: 4, fill: "#1d2330" }), text);
    svg.append(group);
    return { x, y, text, group };
  });
  $("plot-out").replaceChildren(svg);   // in the page first, so the labels can be measured
  placeLabels(items, segments, W, H);
}

$("plot-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit(ev.target, "plot-status", "Projecting…", async () => {
    const tokens = $("plot-words").value.split(/[\s,]+/).filter(Boolean);
    const pairs = tokens.filter((t) => t.includes(":")).map((t) => t.split(":")).filter((p) => p.length === 2 && p[0] && p[1]);
    const words = [...new Set(tokens.flatMap((t) => t.split(":")).filter(Boolean))];
    const r = await api("/api/embed/project", { vectors: $("words-vectors").value, words, method: $("plot-method").value });
    drawMap(r.points, pairs);
  }, () => $("plot-out").replaceChildren());
});

// ------------------------------------------------------------------------------------- sentences
const EXPLANATIONS = {
  "max-pool": "Marked: the n-grams whose convolution filters won the max-pool, shaded by what those filters add to " +
              "the label's logit over the other labels' (green for, red against).",
  occlusion: "Marked: each word shaded by how much the label's probability drops when that word is removed " +
             "(occlusion; green for, red against).",
};

function renderHighlights(text, highlights) {
  const score = new Float64Array(text.length);   // summed weight of the spans over each character
  for (const h of highlights) for (let i = h.start; i < h.end; i++) score[i] += h.weight;
  const top = Math.max(1e-9, ...Array.from(score, Math.abs));
  const target = $("classify-highlighted");
  target.replaceChildren();
  let i = 0;
  while (i < text.length) {
    let j = i + 1;
    while (j < text.length && score[j] === score[i]) j++;
    const piece = text.slice(i, j);
    if (score[i] === 0) {
      target.append(piece);
    } else {
      const mark = el("mark", { title: `weight ${score[i].toFixed(3)}`, text: piece });
      const a = 0.15 + 0.6 * Math.abs(score[i]) / top;
      mark.style.backgroundColor = score[i] > 0 ? `rgba(26, 127, 70, ${a})` : `rgba(179, 38, 30, ${a})`;
      mark.dataset.weight = score[i].toFixed(4);
      target.append(mark);
    }
    i = j;
  }
}

$("classify-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit(ev.target, "classify-status", "Classifying…", async () => {
    const text = $("classify-text").value;
    const r = await api("/api/classify", { run: $("classify-run").value, text });
    $("classify-out").hidden = false;
    $("classify-label").textContent = r.label;
    const rows = Object.entries(r.probabilities).sort((a, b) => b[1] - a[1]);
    $("classify-probs").replaceChildren(...rows.flatMap(([label, p]) => {
      const fill = el("div");
      fill.style.width = (100 * p).toFixed(1) + "%";
      return [el("span", { text: label }), el("div", { class: "bar" }, fill), el("span", { text: (100 * p).toFixed(1) + "%" })];
    }));
    renderHighlights(text, r.highlights);
    $("classify-explanation").textContent = r.highlights.length ? EXPLANATIONS[r.explanation] || ""
      : "No word of this sentence moved the decision: the label is what the model says of it as a whole.";
  }, () => { $("classify-out").hidden = true; });
});

// The example sentence fits the data set the chosen run was trained on (a question for TREC). It
// changes with the run only while the box still holds an example (or nothing), never the user's text.
const EXAMPLES = {
  mr: "a gorgeous , witty , seductive movie .",
  sst1: "a gorgeous , witty , seductive movie .",
  sst2: "a gorgeous , witty , seductive movie .",
  subj: "the film follows a young nurse who moves to a small town after the war .",
  trec: "What is the capital of France ?",
  cr: "the battery lasts all day and the screen is bright and sharp .",
  mpqa: "a serious threat to peace",
};
let datasets = {};

function exampleFor(run) {
  const key = (datasets[run] || "").toLowerCase().replace(/[^a-z0-9]/g, "");
  return EXAMPLES[key] || EXAMPLES.mr;
}

function fitExample() {
  const box = $("classify-text");
  if (box.value.trim() === "" || Object.values(EXAMPLES).includes(box.value)) box.value = exampleFor($("classify-run").value);
}

$("classify-run").addEventListener("change", fitExample);

// ----------------------------------------------------------------------------------- translation
function drawHeatmap(src, out, attention) {
  const cell = 40, left = 110, top = 90;
  const W = left + cell * src.length + 20, H = top + cell * out.length + 20;
  const svg = el("svg:svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img",
                              "aria-label": "attention: one row per output word, one column per source word" });
  const colLabels = src.map((w, j) => el("svg:text", {
    class: "col", x: left + cell * j + cell / 2, y: top - 8, "text-anchor": "start",
    transform: `rotate(-45 ${left + cell * j + cell / 2} ${top - 8})`, text: w }));
  const rowLabels = out.map((w, i) => el("svg:text", {
    class: "rowlabel", x: left - 8, y: top + cell * i + cell / 2 + 4, "text-anchor": "end", text: w }));
  svg.append(...colLabels, ...rowLabels);
  const tip = $("heatmap-tip");
  attention.forEach((row, i) => {
    const g = el("svg:g", { class: "row", "data-word": out[i] });
    row.forEach((w, j) => {
      const shade = Math.round(255 * (1 - w));
      const rect = el("svg:rect", { class: "cell", x: left + cell * j, y: top + cell * i, width: cell, height: cell,
                                    fill: `rgb(${shade}, ${Math.round(shade * 0.9 + 25)}, 255)`,
                                    "data-weight": w.toFixed(4) });
      rect.addEventListener("mouseenter", (e) => {
        rect.classList.add("on"); rowLabels[i].classList.add("on"); colLabels[j].classList.add("on");
        tip.textContent = `${out[i]} ← ${src[j]}: ${w.toFixed(3)}`;
        tip.hidden = false;
        tip.style.left = e.clientX + 12 + "px";
        tip.style.top = e.clientY + 12 + "px";
      });
      rect.addEventListener("mouseleave", () => {
        rect.classList.remove("on"); rowLabels[i].classList.remove("on"); colLabels[j].classList.remove("on");
        tip.hidden = true;
      });
      g.append(rect);
    });
    svg.append(g);
  });
  $("heatmap").replaceChildren(svg);
}

$("translate-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit(ev.target, "translate-status", "Translating…", async () => {
    const r = await api("/api/translate", { run: $("translate-run").value, text: $("translate-text").value,
                                            beam: num("translate-beam") });
    const out = $("translate-out");
    out.textContent = r.translation || "(empty translation)";
    out.classList.toggle("empty", !r.translation);
    drawHeatmap(r.source_tokens, r.output_tokens, r.attention);
  }, () => { $("translate-out").textContent = ""; $("heatmap").replaceChildren(); $("heatmap-tip").hidden = true; });
});

// ----------------------------------------------------------------------------------------- start
async function start() {
  showTab(location.hash.slice(1));
  let health;
  try { health = await api("/api/health"); } catch (e) { status("names-status", e.message, "error"); return; }
  const of = (kind) => Object.keys(health.runs).filter((n) => health.runs[n] === kind);
  datasets = health.datasets || {};
  fillSelect("text-run", of("lm"), "No lm run is served: start seqlab serve --run NAME=RUN_DIR " +
             "with a run of `seqlab lm train`.", "text-status");
  fillSelect("words-vectors", health.vectors, "No word vectors are served: start seqlab serve --vectors glove-6b-50d.",
             "words-status");
  fillSelect("classify-run", of("classify"), "No classify run is served: start seqlab serve --run " +
             "NAME=RUN_DIR with a run of `seqlab classify train`.", "classify-status");
  fitExample();
  fillSelect("translate-run", of("translate"), "No translation run is served: start seqlab serve --run " +
             "NAME=RUN_DIR with a run of `seqlab translate train`.", "translate-status");
  $("text-stop").disabled = true;
  document.body.dataset.ready = "true";
  await watchNames();
}

start();
