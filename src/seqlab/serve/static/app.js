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

// POST JSON -> the parsed answer; an {"error"} answer becomes a thrown Error with its line.
async function api(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) throw new Error((data && data.error) || `HTTP ${res.status}`);
  return data;
}

async function submit(form, statusId, busyText, work) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  status(statusId, busyText, "busy");
  try {
    await work();
    status(statusId, "");
  } catch (e) {
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
  } else {
    status("names-status", s.message, s.state === "failed" ? "error" : "");
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
      ? el("li", { class: "novel" }, name, el("span", { class: "badge", text: "new" }))
      : el("li", { class: "known", title: "in the training list", text: name })));
    if (r.names.length < num("names-n")) throw new Error(`only ${r.names.length} names found; raise the temperature`);
  });
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
    const res = await fetch("/api/lm/stream?" + params, { signal: streaming.signal });
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
  submit(ev.target, "words-status", "Searching…", async () => {
    const r = await api("/api/embed/similar", { vectors: $("words-vectors").value, word: $("similar-word").value.trim(),
                                                topn: num("similar-topn") });
    ranked("similar-out", r.results);
  });
});

$("analogy-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit(ev.target, "words-status", "Solving…", async () => {
    const r = await api("/api/embed/analogy", { vectors: $("words-vectors").value, query: $("analogy-query").value,
                                                topn: num("analogy-topn") });
    ranked("analogy-out", r.results);
  });
});

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
  for (const [a, b] of pairs) {
    if (!at[a] || !at[b]) continue;
    const [ax, ay] = at[a], [bx, by] = at[b];
    const len = Math.hypot(bx - ax, by - ay) || 1, cut = 6 / len;      // stop short of the target dot
    svg.append(el("svg:line", { class: "pair", x1: ax, y1: ay, x2: bx - (bx - ax) * cut, y2: by - (by - ay) * cut,
                                stroke: "#2457c5", "stroke-width": "1.5", "marker-end": "url(#arrow)" }));
  }
  for (const p of points) {
    const [x, y] = at[p.word];
    svg.append(el("svg:g", { class: "point" }, el("svg:circle", { cx: x, cy: y, r: 4, fill: "#1d2330" }),
                  el("svg:text", { x: x + 7, y: y - 6, text: p.word })));
  }
  $("plot-out").replaceChildren(svg);
}

$("plot-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit(ev.target, "words-status", "Projecting…", async () => {
    const tokens = $("plot-words").value.split(/[\s,]+/).filter(Boolean);
    const pairs = tokens.filter((t) => t.includes(":")).map((t) => t.split(":")).filter((p) => p.length === 2 && p[0] && p[1]);
    const words = [...new Set(tokens.flatMap((t) => t.split(":")).filter(Boolean))];
    const r = await api("/api/embed/project", { vectors: $("words-vectors").value, words, method: $("plot-method").value });
    drawMap(r.points, pairs);
  });
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
    $("classify-explanation").textContent = EXPLANATIONS[r.explanation] || "";
  });
});

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
    $("translate-out").textContent = r.translation;
    drawHeatmap(r.source_tokens, r.output_tokens, r.attention);
  });
});

// ----------------------------------------------------------------------------------------- start
async function start() {
  showTab(location.hash.slice(1));
  let health;
  try { health = await api("/api/health"); } catch (e) { status("names-status", e.message, "error"); return; }
  const of = (kind) => Object.keys(health.runs).filter((n) => health.runs[n] === kind);
  fillSelect("text-run", of("charlm"), "No language-model run is served: start seqlab serve --run NAME=RUN_DIR " +
             "with a run of `seqlab lm train`.", "text-status");
  fillSelect("words-vectors", health.vectors, "No word vectors are served: start seqlab serve --vectors glove-6b-50d.",
             "words-status");
  fillSelect("classify-run", of("sentence-classifier"), "No classifier run is served: start seqlab serve --run " +
             "NAME=RUN_DIR with a run of `seqlab classify train`.", "classify-status");
  fillSelect("translate-run", of("translate"), "No translation run is served: start seqlab serve --run " +
             "NAME=RUN_DIR with a run of `seqlab translate train`.", "translate-status");
  $("text-stop").disabled = true;
  document.body.dataset.ready = "true";
  await watchNames();
}

start();
