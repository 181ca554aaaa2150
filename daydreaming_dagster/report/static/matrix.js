/* The matrix page: filter, sort, search and page the rows of data/matrix.js.
   Written for this report; no library. The essays for the text search come in chunk files
   (data/text/NNNN.js) loaded with <script> tags once the page is up, because
   browsers refuse to fetch file:// URLs from a page. Filters can be set in the address too:
   matrix.html#concept=ID&model=ID&template=NAME&flag=stale&q=words&sort=s0&dir=-1 */
(function () {
  "use strict";
  var data = window.DAYDREAMING_MATRIX;
  var base = document.body.getAttribute("data-base") || "";
  var table = document.getElementById("matrix");
  var tbody = table.tBodies[0];
  var byId = function (id) { return document.getElementById(id); };
  var controls = { model: "filter-model", template: "filter-template", concept: "filter-concept",
                   flag: "filter-flag", q: "search" };
  var state = { model: "", template: "", concept: "", flag: "", q: "", sort: "", dir: 1,
                page: 0, size: 250 };
  var texts = null, loading = false;

  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  function readHash() {
    var pairs = location.hash.replace(/^#/, "").split("&");
    for (var i = 0; i < pairs.length; i++) {
      var kv = pairs[i].split("=");
      if (kv.length === 2 && kv[0] in state) {
        var v = decodeURIComponent(kv[1]);
        state[kv[0]] = kv[0] === "dir" || kv[0] === "size" ? Number(v) : v;
      }
    }
    for (var key in controls) { byId(controls[key]).value = state[key]; }
    byId("page-size").value = String(state.size);
  }

  function writeHash() {
    var parts = [];
    ["model", "template", "concept", "flag", "q", "sort"].forEach(function (k) {
      if (state[k]) { parts.push(k + "=" + encodeURIComponent(state[k])); }
    });
    if (state.sort && state.dir < 0) { parts.push("dir=-1"); }
    try { history.replaceState(null, "", "#" + parts.join("&")); } catch (e) { /* ignore */ }
  }

  function matches(row) {
    if (state.model && row.model !== state.model) { return false; }
    if (state.template && row.template !== state.template) { return false; }
    if (state.concept && row.concepts.indexOf(state.concept) < 0) { return false; }
    if (state.flag === "any" && !row.flags.length) { return false; }
    if (state.flag === "none" && row.flags.length) { return false; }
    if (state.flag && state.flag !== "any" && state.flag !== "none" &&
        row.flags.indexOf(state.flag) < 0) { return false; }
    if (state.q) {
      // Every word in the essay or in the row's own fields (id, combination, concepts,
      // template, model); until the essays are in, in the fields only.
      var words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
      var text = row.hay + (texts ? " " + (texts[row.i] || "") : "");
      for (var w = 0; w < words.length; w++) { if (text.indexOf(words[w]) < 0) { return false; } }
    }
    return true;
  }

  function value(row, key) {
    if (key.charAt(0) === "s" && key !== "state") {
      var cell = row.s[Number(key.slice(1))];
      var n = parseFloat(cell);
      return cell === null ? null : (isNaN(n) ? String(cell) : n);
    }
    if (key === "concepts" || key === "flags") { return row[key].join(" "); }
    if (key === "rep") { return Number(row.rep); }
    return row[key];
  }

  function compare(a, b) {
    var va = value(a, state.sort), vb = value(b, state.sort);
    if (va === vb) { return a.i - b.i; }
    if (va === null) { return 1; }
    if (vb === null) { return -1; }
    if (typeof va !== typeof vb) { return typeof va === "number" ? -1 : 1; }
    return (va < vb ? -1 : 1) * state.dir;
  }

  function rowHtml(row) {
    var flags = row.flags.map(function (f) {
      return '<span class="flag flag-' + f + '">' + esc(data.flagLabels[f] || f) + "</span>";
    }).join(" ");
    var scores = row.s.map(function (cell) {
      var shown = cell === null ? "—" : cell;
      var numeric = cell !== null && !isNaN(parseFloat(cell));
      return '<td class="score' + (numeric ? " num" : " no-score") + '" data-score="' +
        (numeric ? esc(cell) : "") + '">' + esc(shown) + "</td>";
    }).join("");
    return '<tr class="generation-row" data-generation-task-id="' + esc(row.id) +
      '" data-concepts="' + esc(row.concepts.join("|")) + '" data-flags="' +
      esc(row.flags.join(" ")) + '"><td class="col-id"><a class="generation-link" href="' +
      esc(base + row.href) + '">' + esc(row.id) + "</a></td><td>" + esc(row.combo) +
      '</td><td class="concepts">' + esc(row.concepts.join(", ")) + "</td><td>" +
      esc(row.template) + "</td><td>" + esc(row.model) + '</td><td class="num">' +
      esc(row.rep) + "</td><td>" + esc(row.state) + '</td><td class="flags">' + flags +
      "</td>" + scores + "</tr>";
  }

  function render() {
    var shown = data.rows.filter(matches);
    if (state.sort) { shown.sort(compare); }
    var size = state.size > 0 ? state.size : shown.length || 1;
    var pages = Math.max(1, Math.ceil(shown.length / size));
    state.page = Math.min(state.page, pages - 1);
    var page = shown.slice(state.page * size, state.page * size + size);
    tbody.innerHTML = page.map(rowHtml).join("");
    byId("matrix-count").textContent = shown.length + " of " + data.rows.length + " generations";
    byId("page-info").textContent = "page " + (state.page + 1) + " of " + pages;
    byId("page-prev").disabled = state.page === 0;
    byId("page-next").disabled = state.page >= pages - 1;
    table.setAttribute("data-matching", String(shown.length));
    table.setAttribute("data-ready", "true");
    var heads = table.tHead.rows[0].cells;
    for (var h = 0; h < heads.length; h++) {
      var key = heads[h].getAttribute("data-key");
      heads[h].setAttribute("aria-sort", key === state.sort ?
        (state.dir > 0 ? "ascending" : "descending") : "none");
    }
    writeHash();
  }

  function loadTexts() {
    if (texts || loading) { return; }
    loading = true;
    var got = new Array(data.rows.length), left = data.textChunks;
    if (state.q) { byId("search-status").textContent = "loading the essays for the search…"; }
    window.DAYDREAMING_TEXT = function (chunk, values) {
      for (var k = 0; k < values.length; k++) {
        got[chunk * data.chunkSize + k] = String(values[k]).toLowerCase();
      }
      left -= 1;
      if (left === 0) {
        texts = got;
        byId("search-status").textContent = "";
        if (state.q) { render(); }
      }
    };
    for (var c = 0; c < data.textChunks; c++) {
      var tag = document.createElement("script");
      tag.src = base + "data/text/" + String(c).padStart(4, "0") + ".js";
      tag.onerror = function () { byId("search-status").textContent = "essay text not found"; };
      document.body.appendChild(tag);
    }
  }

  function changed(key, v) {
    state[key] = v;
    state.page = 0;
    if (key === "q" && v && !texts) {
      byId("search-status").textContent = "loading the essays for the search…";
      loadTexts();
    }
    render();
  }

  Object.keys(controls).forEach(function (key) {
    var el = byId(controls[key]);
    el.addEventListener(key === "q" ? "input" : "change", function () { changed(key, el.value); });
  });
  byId("page-size").addEventListener("change", function () {
    changed("size", Number(byId("page-size").value));
  });
  byId("page-prev").addEventListener("click", function () { state.page -= 1; render(); });
  byId("page-next").addEventListener("click", function () { state.page += 1; render(); });
  table.tHead.addEventListener("click", function (event) {
    var th = event.target.closest("th[data-key]");
    if (!th) { return; }
    var key = th.getAttribute("data-key");
    state.dir = state.sort === key ? -state.dir : 1;
    state.sort = key;
    render();
  });

  data.rows.forEach(function (row) {
    row.hay = [row.id, row.combo, row.concepts.join(" "), row.template, row.model]
      .join(" ").toLowerCase();
  });
  readHash();
  if (state.q) { loadTexts(); }
  render();
  // The essays come in the background once the page is up, so a search finds them at once.
  window.addEventListener("load", function () { setTimeout(loadTexts, 50); });
})();
