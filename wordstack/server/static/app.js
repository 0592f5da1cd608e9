/* wordstack explorer: a page over the JSON API of `wordstack serve` (docs/api.md).
 *
 * Plain JavaScript, no dependencies, no network but this server. The URL holds the
 * query (/?q=romeo&n=10, /?view=analogy&a=..&b=..&c=.., /?view=odd&w=..&w=..), so
 * back/forward and shared links show the same view: every navigation goes through
 * navigate() -> history.pushState -> route(), which reads the URL and draws.
 */
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const EXAMPLES = ["romeo", "king queen", "love", "sword", "night"];
  const N_CHOICES = ["5", "10", "20", "30", "50"];

  const $ = (id) => document.getElementById(id);

  /** An element with attributes and children (strings become text nodes, never HTML). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else if (key in node && typeof value !== "string") node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function s(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  // ------------------------------------------------------------------ the API

  class ApiError extends Error {
    constructor(status, message, error, body) {
      super(message);
      this.status = status;
      this.error = error || {};
      this.body = body || {};
    }
  }

  function queryString(params) {
    const qs = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (Array.isArray(value)) value.forEach((v) => qs.append(key, v));
      else if (value !== undefined && value !== null && value !== "") qs.append(key, value);
    }
    return qs.toString();
  }

  async function api(path, params) {
    let response;
    try {
      response = await fetch(`${path}?${queryString(params || {})}`, { headers: { Accept: "application/json" } });
    } catch (err) {
      throw new ApiError(0, `Cannot reach the wordstack server (${err.message}). Is it still running?`);
    }
    let body;
    try {
      body = await response.json();
    } catch (err) {
      throw new ApiError(response.status, `The server answered ${response.status} ${response.statusText} without JSON.`);
    }
    if (!response.ok) {
      const error = (body && body.error) || {};
      throw new ApiError(response.status, error.message || `HTTP ${response.status}`, error, body);
    }
    return body;
  }

  // ------------------------------------------------------------------ the URL

  function readLocation() {
    const p = new URLSearchParams(location.search);
    let view = p.get("view");
    if (!["similar", "analogy", "odd"].includes(view)) view = p.has("a") ? "analogy" : p.has("w") ? "odd" : "similar";
    const n = N_CHOICES.includes(p.get("n")) ? p.get("n") : "10";
    return { view, n, q: p.getAll("q").join(" ").trim(), a: p.get("a") || "", b: p.get("b") || "",
             c: p.get("c") || "", w: p.getAll("w").flatMap(splitWords) };
  }

  const similarUrl = (q, n) => `/?${queryString({ q, n: n && n !== "10" ? n : "" })}`;

  function navigate(url, { focusTitle = false } = {}) {
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
    route({ focusTitle });
  }

  function splitWords(text) {
    return String(text).split(/[\s,]+/).filter(Boolean);
  }

  // ------------------------------------------------------------------ messages

  function showError(message, suggestions) {
    const box = $("error");
    const view = document.querySelector("section.view:not([hidden]) .view-title");
    if (view && view.nextElementSibling !== box) view.after(box);     // under the title of the view shown
    box.replaceChildren(h("p", {}, message));
    if (suggestions) box.append(h("p", { class: "suggestions" }, suggestionLinks(suggestions)));
    box.hidden = false;
  }

  /** The URL of the current query with the unknown word replaced by a suggestion. */
  function suggestionUrl(unknown, suggestion) {
    const where = readLocation();
    const swap = (text) => text.split(/(\s+)/).map((t) => (t.toLowerCase() === unknown.toLowerCase() ? suggestion : t)).join("");
    if (where.view === "analogy") {
      const [a, b, c] = [where.a, where.b, where.c].map((v) => (v === unknown ? suggestion : v));
      return `/?${queryString({ view: "analogy", a, b, c, n: where.n !== "10" ? where.n : "" })}`;
    }
    if (where.view === "odd") return `/?${queryString({ view: "odd", w: where.w.map((v) => (v === unknown ? suggestion : v)) })}`;
    const q = swap(where.q);
    return similarUrl(q === where.q ? suggestion : q, where.n);
  }

  /** "Did you mean: a, b?" with each suggestion a link to the query asked again with it. */
  function suggestionLinks({ unknown, words }) {
    if (!words.length) return ["No close match either; check the spelling."];
    return ["Did you mean: ", words.map((w, i) => [i ? ", " : "",
      h("a", { href: suggestionUrl(unknown, w), class: "suggestion" }, w)]), "?"];
  }

  /** A short summary for screen readers (the status region), after each answer. */
  function announce(text) {
    $("status").textContent = text;
  }

  function clearError() {
    announce("");
    $("error").hidden = true;
    $("error").replaceChildren();
  }

  function describeError(err) {
    if (err.status === 404 && err.error.unknown !== undefined) {
      return [`“${err.error.unknown}” is not in the vocabulary of ${state.models.length > 1 ? "any model" : "the model"}.`,
              { unknown: err.error.unknown, words: err.error.suggestions || [] }];
    }
    return [err.message, null];
  }

  function wordLink(word, attrs) {
    return h("a", { href: similarUrl(word, readLocation().n), class: "word", "data-word": word, ...(attrs || {}) }, word);
  }

  function loading(container, text) {
    container.setAttribute("aria-busy", "true");
    container.replaceChildren(h("p", { class: "loading" }, text || "Asking the models…"));
  }

  // ------------------------------------------------------------------ lists with score bars

  function scoreList(items, { ordered = true, mark } = {}) {
    const list = h(ordered ? "ol" : "ul", { class: "scores" });
    for (const [i, item] of items.entries()) {
      const fill = h("span", { class: "fill" });
      fill.style.width = `${Math.max(0, Math.min(1, item.score)) * 100}%`;
      list.append(h("li", { class: mark === item.word ? "marked" : null },
        h("span", { class: "rank", "aria-hidden": "true" }, ordered ? `${i + 1}.` : ""),
        wordLink(item.word),
        h("span", { class: "bar", "aria-hidden": "true" }, fill),
        h("span", { class: "score", title: "cosine similarity" }, item.score.toFixed(3))));
    }
    return list;
  }

  function answerSummary(results, what) {
    const answered = results.filter((r) => r.error === undefined);
    const n = answered.length ? answered[0].neighbors.length : 0;
    return `${n} ${what} in ${answered.length} of ${results.length} model${results.length === 1 ? "" : "s"}.`;
  }

  function modelColumn(entry, body) {
    const column = h("article", { class: "model", "data-model": entry.model },
      h("h2", {}, entry.label));
    if (entry.error !== undefined) {
      column.append(h("p", { class: "unknown" }, `“${entry.unknown}” is not in this model's vocabulary. `,
        suggestionLinks({ unknown: entry.unknown, words: entry.suggestions })));
    } else {
      if (entry.from_subwords) {   // a fastText model answered for words it has no row of
        const words = entry.subword_terms.map((w) => `“${w}”`).join(", ");
        column.append(h("p", { class: "note subwords" },
          `${words} ${entry.subword_terms.length === 1 ? "is" : "are"} not in this model's vocabulary: ` +
          "built from character n-grams (subwords)."));
      }
      column.append(...[body(entry)].flat());
    }
    return column;
  }

  // ------------------------------------------------------------------ views

  const state = { models: [], token: 0 };

  function showView(view) {
    for (const name of ["similar", "analogy", "odd"]) $(`view-${name}`).hidden = name !== view;
    for (const link of document.querySelectorAll("nav.views a")) {
      if (link.dataset.view === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  async function route({ focusTitle = false } = {}) {
    const where = readLocation();
    const token = ++state.token;
    clearError();
    showView(where.view);
    $("q").value = where.view === "similar" ? where.q : $("q").value;
    $("n").value = where.n;
    const title = { similar: $("similar-title"), analogy: $("analogy-title"), odd: $("odd-title") }[where.view];
    if (focusTitle) {
      title.setAttribute("tabindex", "-1");
      title.focus({ preventScroll: false });
    }
    if (where.view === "similar") await showSimilar(where, token);
    else if (where.view === "analogy") await showAnalogy(where, token);
    else await showOdd(where, token);
  }

  function intro() {
    return h("div", { class: "intro" },
      h("p", {}, "Type a word and press Enter to see its nearest words in every model, side by side, " +
        "with a map of its neighbourhood. Several words, or a phrase, ask for the mean of their vectors."),
      h("p", {}, "Try: ", EXAMPLES.map((q, i) => [i ? " · " : "", h("a", { href: similarUrl(q) }, q)])));
  }

  async function showSimilar(where, token) {
    const out = $("similar-results");
    if (!where.q) {
      document.title = "wordstack explorer";
      $("similar-title").textContent = "Nearest words";
      out.removeAttribute("aria-busy");
      out.replaceChildren(intro());
      return;
    }
    document.title = `${where.q} · wordstack explorer`;
    $("similar-title").textContent = `Nearest words to “${where.q}”`;
    loading(out);
    const mapRequest = api("/api/map", { q: where.q, n: Math.min(Number(where.n), 50) }).catch((err) => err);
    let body;
    try {
      body = await api("/api/similar", { q: where.q, n: where.n });
    } catch (err) {
      if (token !== state.token) return;
      out.removeAttribute("aria-busy");
      out.replaceChildren();
      showError(...describeError(err));
      return;
    }
    if (token !== state.token) return;
    out.removeAttribute("aria-busy");
    announce(answerSummary(body.results, "nearest words"));
    out.replaceChildren(...body.results.map((entry) => modelColumn(entry, (e) => [
      scoreList(e.neighbors),
      h("figure", { class: "map" }, h("p", { class: "loading" }, "Drawing the map…")),
    ])));
    const maps = await mapRequest;
    if (token !== state.token) return;
    for (const column of out.querySelectorAll("article.model")) {
      const figure = column.querySelector("figure.map");
      if (!figure) continue;
      if (maps instanceof Error) {
        figure.replaceChildren(h("p", { class: "unknown" }, `No map: ${maps.message}`));
        continue;
      }
      const entry = maps.results.find((r) => r.model === column.dataset.model);
      if (entry && entry.points) drawMap(figure, entry);
      else figure.remove();
    }
  }

  async function showAnalogy(where, token) {
    const out = $("analogy-results");
    $("a").value = where.a;
    $("b").value = where.b;
    $("c").value = where.c;
    if (!(where.a && where.b && where.c)) {
      document.title = "Analogy · wordstack explorer";
      out.replaceChildren(h("p", { class: "intro" }, "For example ", h("a", { href: "/?view=analogy&a=man&b=king&c=woman" },
        "man : king :: woman : ?"), " — the words nearest king − man + woman."));
      return;
    }
    document.title = `${where.a} : ${where.b} :: ${where.c} : ? · wordstack explorer`;
    loading(out);
    try {
      const body = await api("/api/analogy", { a: where.a, b: where.b, c: where.c, n: where.n });
      if (token !== state.token) return;
      announce(answerSummary(body.results, "answers"));
      out.replaceChildren(h("p", { class: "query-line" }, `${where.a} : ${where.b} :: ${where.c} : ?`),
        h("div", { class: "columns" }, body.results.map((entry) => modelColumn(entry, (e) => scoreList(e.neighbors)))));
    } catch (err) {
      if (token !== state.token) return;
      out.replaceChildren();
      showError(...describeError(err));
    }
    out.removeAttribute("aria-busy");
  }

  async function showOdd(where, token) {
    const out = $("odd-results");
    $("w").value = where.w.join(" ");
    if (!where.w.length) {
      document.title = "Odd one out · wordstack explorer";
      out.replaceChildren(h("p", { class: "intro" }, "For example ",
        h("a", { href: "/?view=odd&w=romeo&w=juliet&w=tybalt&w=sword" }, "romeo juliet tybalt sword"),
        ": each word is scored by its cosine to the mean of all of them; the lowest fits least."));
      return;
    }
    document.title = `Odd one out: ${where.w.join(" ")} · wordstack explorer`;
    if (where.w.length < 3) {
      out.replaceChildren();
      showError(`Give at least 3 words to compare; got ${where.w.length}.`);
      return;
    }
    loading(out);
    try {
      const body = await api("/api/odd-one-out", { w: where.w });
      if (token !== state.token) return;
      announce(body.results.filter((r) => r.odd).map((r) => `${r.label}: ${r.odd}`).join("; "));
      out.replaceChildren(...body.results.map((entry) => modelColumn(entry, (e) => [
        h("p", { class: "odd" }, "Odd one out: ", wordLink(e.odd, { class: "word odd-word" })),
        h("p", { class: "note" }, "Cosine to the mean of the words, lowest first:"),
        scoreList(e.scores, { ordered: false, mark: e.odd }),
      ])));
    } catch (err) {
      if (token !== state.token) return;
      out.replaceChildren();
      showError(...describeError(err));
    }
    out.removeAttribute("aria-busy");
  }

  // ------------------------------------------------------------------ the map (SVG)

  /** Label centres, placed greedily in order (the query first, then the neighbours best first):
   *  each label takes the first spot around its point, nearest first, that overlaps no label
   *  placed before it and no point and stays inside the frame; when none is free, the spot of
   *  least overlap. A label set away from its point gets a leader line (drawMap). */
  function placeLabels(labels, points, bounds) {
    const [x0, y0, x1, y1] = bounds;
    const placed = [];
    const overlap = (a, b) => Math.max(0, Math.min(a.r, b.r) - Math.max(a.l, b.l)) *
                              Math.max(0, Math.min(a.b, b.b) - Math.max(a.t, b.t));
    const angles = [0, 180, 90, 270, 30, 150, 210, 330, 60, 120, 240, 300];
    for (const label of labels) {
      let best = null;
      search: for (const d of [0, 6, 14, 24, 36, 52, 72, 96]) {
        for (const deg of angles) {
          const t = (deg * Math.PI) / 180;
          const cx = label.ax + Math.cos(t) * (label.w / 2 + label.r + 3 + d);
          const cy = label.ay - Math.sin(t) * (label.h / 2 + label.r + 1 + d);
          const box = { l: cx - label.w / 2 - 1, r: cx + label.w / 2 + 1, t: cy - label.h / 2, b: cy + label.h / 2 };
          if (box.l < x0 || box.r > x1 || box.t < y0 || box.b > y1) continue;
          let cost = 0;
          for (const other of placed) cost += overlap(box, other);
          for (const p of points) cost += 4 * overlap(box, { l: p.x - p.r, r: p.x + p.r, t: p.y - p.r, b: p.y + p.r });
          cost += d * 0.5;        // nearer is better when nothing is free
          if (!best || cost < best.cost) best = { cost, cx, cy, box, d };
          if (cost === d * 0.5) break search;     // free: take it
        }
      }
      if (!best) {   // no spot inside the frame (a label wider than the map): beside the point, clamped
        const cx = Math.min(Math.max(label.ax + label.w / 2 + label.r + 3, x0 + label.w / 2), x1 - label.w / 2);
        best = { cx, cy: label.ay, box: { l: cx - label.w / 2, r: cx + label.w / 2, t: label.ay - label.h / 2, b: label.ay + label.h / 2 } };
      }
      label.x = best.cx;
      label.y = best.cy;
      placed.push(best.box);
    }
  }

  function drawMap(figure, entry) {
    const width = Math.max(260, Math.round(figure.clientWidth || 420));
    const crowd = Math.max(0, entry.points.length - 12) * 9;      // more labels, more room
    const height = Math.round(Math.min(720, Math.max(240, Math.min(width * 0.75, 420) + crowd)));
    const margin = 14;
    const terms = new Set(entry.terms);
    const xs = entry.points.map((p) => p.x);
    const ys = entry.points.map((p) => p.y);
    const [xmin, xmax, ymin, ymax] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    // leave room around the points for their labels
    const sx = (x) => margin + 30 + ((x - xmin) / (xmax - xmin || 1)) * (width - 2 * margin - 100);
    const sy = (y) => height - margin - 8 - ((y - ymin) / (ymax - ymin || 1)) * (height - 2 * margin - 16);
    const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
      "aria-label": `Map of “${entry.terms.join(" ")}” and its ${entry.points.length - entry.terms.length} ` +
        `nearest words in ${entry.label} (PCA)` });
    svg.append(s("rect", { x: 0.5, y: 0.5, width: width - 1, height: height - 1, class: "frame" }));
    const leaders = s("g", { class: "leaders" });
    const dots = s("g", { class: "dots" });
    const texts = s("g", { class: "labels" });
    svg.append(leaders, dots, texts);
    figure.replaceChildren(svg);
    const points = [];
    const labels = [];
    for (const p of entry.points) {
      const isQuery = terms.has(p.word);
      const x = sx(p.x);
      const y = sy(p.y);
      const r = isQuery ? 6 : 4;
      points.push({ x, y, r });
      const dot = s("circle", { cx: x, cy: y, r, class: isQuery ? "dot query" : "dot", "data-word": p.word });
      dots.append(dot);
      const link = s("a", { href: similarUrl(p.word, readLocation().n), tabindex: "-1", "data-word": p.word,
                            class: isQuery ? "label query" : "label" });
      const text = s("text", { x, y, "dominant-baseline": "central", "text-anchor": "middle" });
      text.textContent = p.word;
      link.append(text);
      texts.append(link);
      let box;
      try { box = text.getBBox(); } catch (err) { box = null; }
      const w = box && box.width ? box.width : p.word.length * 7;
      const hgt = box && box.height ? box.height : 14;
      labels.push({ w, h: hgt, text, ax: x, ay: y, r, word: p.word });
    }
    placeLabels(labels, points, [2, 2, width - 2, height - 2]);
    for (const label of labels) {
      label.text.setAttribute("x", label.x.toFixed(1));
      label.text.setAttribute("y", label.y.toFixed(1));
      // a label pushed away from its point gets a thin line back to it
      const dx = Math.max(Math.abs(label.x - label.ax) - label.w / 2, 0);
      const dy = Math.max(Math.abs(label.y - label.ay) - label.h / 2, 0);
      if (Math.hypot(dx, dy) > label.r + 6) {
        const ex = Math.min(Math.max(label.ax, label.x - label.w / 2), label.x + label.w / 2);
        const ey = Math.min(Math.max(label.ay, label.y - label.h / 2), label.y + label.h / 2);
        leaders.append(s("line", { x1: label.ax, y1: label.ay, x2: ex, y2: ey, "data-word": label.word }));
      }
    }
    const variance = (entry.explained_variance || []).map((v) => `${Math.round(v * 100)}%`).join(" + ");
    figure.append(h("figcaption", {}, `PCA of the query and its neighbours${variance ? ` (${variance} of the variance)` : ""}.`));
    figure.dataset.entry = JSON.stringify({ terms: entry.terms, points: entry.points, label: entry.label,
                                            explained_variance: entry.explained_variance });
  }

  let resizeTimer;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const figure of document.querySelectorAll("figure.map[data-entry]")) {
        drawMap(figure, JSON.parse(figure.dataset.entry));
      }
    }, 150);
  });

  // ------------------------------------------------------------------ hover: the same word everywhere

  function highlight(word, on) {
    if (!word) return;
    for (const node of document.querySelectorAll(`main [data-word="${CSS.escape(word)}"]`)) {
      node.classList.toggle("hl", on);
      const item = node.closest("li");
      if (item) item.classList.toggle("hl", on);
    }
  }

  for (const [over, out] of [["mouseover", "mouseout"], ["focusin", "focusout"]]) {
    document.addEventListener(over, (ev) => {
      const node = ev.target.closest && ev.target.closest("[data-word]");
      if (node) highlight(node.dataset.word || node.getAttribute("data-word"), true);
    });
    document.addEventListener(out, (ev) => {
      const node = ev.target.closest && ev.target.closest("[data-word]");
      if (node) highlight(node.getAttribute("data-word"), false);
    });
  }

  // ------------------------------------------------------------------ completion (ARIA combobox)

  function attachCompletion(input, listbox, { multi = false, onPick } = {}) {
    let words = [];
    let active = -1;
    let timer;
    let seq = 0;

    const tokenStart = () => {
      if (!multi) return 0;
      const m = input.value.match(/^(.*[\s,])?[^\s,]*$/);
      return m && m[1] ? m[1].length : 0;
    };
    const token = () => input.value.slice(tokenStart()).trim();

    function close() {
      clearTimeout(timer);
      seq++;            // an answer still on its way is dropped
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(i) {
      const options = listbox.querySelectorAll("[role=option]");
      options.forEach((o, k) => o.setAttribute("aria-selected", k === i ? "true" : "false"));
      active = i;
      if (i >= 0) {
        input.setAttribute("aria-activedescendant", options[i].id);
        options[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(list) {
      words = list;
      if (!words.length || document.activeElement !== input) return close();
      listbox.replaceChildren(...words.map((word, i) => h("li", {
        id: `${listbox.id}-${i}`, role: "option", "aria-selected": "false", class: "option",
      }, word)));
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    async function update() {
      const prefix = token();
      if (!prefix) return close();
      const mine = ++seq;
      try {
        const body = await api("/api/complete", { prefix, n: 8 });
        if (mine === seq) render(body.words.map((w) => w.word).filter((w) => w !== prefix || body.words.length > 1));
      } catch (err) {
        close();
      }
    }

    function pick(word) {
      const start = tokenStart();
      input.value = input.value.slice(0, start) + word + (multi && onPick === undefined ? " " : "");
      close();
      if (onPick) onPick(word);
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(update, 90);
    });
    input.addEventListener("keydown", (ev) => {
      const open = !listbox.hidden;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        if (!open) {
          if (words.length && token()) render(words);
          else update();
          ev.preventDefault();
          return;
        }
        ev.preventDefault();
        const count = words.length;
        setActive(ev.key === "ArrowDown" ? (active + 1) % count : (active - 1 + count) % count);
      } else if (ev.key === "Enter" && open && active >= 0) {
        ev.preventDefault();
        pick(words[active]);
      } else if (ev.key === "Escape" && open) {
        ev.preventDefault();
        close();
      } else if (ev.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 120));
    listbox.addEventListener("mousedown", (ev) => ev.preventDefault());   // keep the focus in the input
    listbox.addEventListener("click", (ev) => {
      const option = ev.target.closest("[role=option]");
      if (option) pick(option.textContent);
    });
    return { close };
  }

  // ------------------------------------------------------------------ wiring

  function submitSearch() {
    const q = $("q").value.trim();
    if (!q) {
      showError("Type a word first (or several words, or a phrase).");
      $("q").focus();
      return;
    }
    navigate(similarUrl(q, $("n").value));
  }

  const searchCompletion = attachCompletion($("q"), $("q-options"), { multi: true, onPick: () => submitSearch() });
  for (const id of ["a", "b", "c"]) attachCompletion($(id), $(`${id}-options`));
  attachCompletion($("w"), $("w-options"), { multi: true });

  $("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    searchCompletion.close();
    submitSearch();
  });
  $("n").addEventListener("change", () => {
    const where = readLocation();
    if (where.view === "similar" && where.q) navigate(similarUrl(where.q, $("n").value));
    else if (where.view === "analogy" && where.a) {
      navigate(`/?${queryString({ view: "analogy", a: where.a, b: where.b, c: where.c, n: $("n").value })}`);
    }
  });
  $("analogy").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const [a, b, c] = ["a", "b", "c"].map((id) => $(id).value.trim());
    const missing = [["a", a], ["b", b], ["c", c]].filter(([, v]) => !v).map(([k]) => k);
    if (missing.length) {
      showError(`Fill in ${missing.join(" and ")}: a is to b as c is to ?`);
      $(missing[0]).focus();
      return;
    }
    const n = $("n").value;
    navigate(`/?${queryString({ view: "analogy", a, b, c, n: n !== "10" ? n : "" })}`);
  });
  $("odd").addEventListener("submit", (ev) => {
    ev.preventDefault();
    navigate(`/?${queryString({ view: "odd", w: splitWords($("w").value) })}`);
  });

  // links inside the page change the view without a reload (new tab, modifiers: the browser's)
  document.addEventListener("click", (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const link = ev.target.closest && ev.target.closest("a[href]");
    if (!link) return;
    const href = link.getAttribute("href") || (link.href && link.href.baseVal);
    const url = new URL(href, location.href);
    if (url.origin !== location.origin || url.pathname !== "/") return;
    ev.preventDefault();
    navigate(url.pathname + url.search, { focusTitle: !link.closest("nav") && !link.classList.contains("home") });
  });
  window.addEventListener("popstate", () => route());

  async function loadModels() {
    try {
      const body = await api("/api/models");
      state.models = body.models;
      const sizes = [...new Set(body.models.map((m) => m.vocab_size.toLocaleString("en")))];
      $("models").textContent = `${body.models.length} model${body.models.length === 1 ? "" : "s"}: ` +
        body.models.map((m) => m.label).join(" · ") + ` — ${sizes.join(" / ")} words`;
    } catch (err) {
      $("models").textContent = "";
      showError(err.message);
    }
  }

  loadModels().then(() => route());
})();
