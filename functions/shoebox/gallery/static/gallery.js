// Shoebox gallery: infinite scroll, search suggestions, and the write actions (each sends the page's token).
"use strict";
const TOKEN = document.querySelector('meta[name="shoebox-token"]').content;

async function post(url, body) {
  const res = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-Shoebox-Token": TOKEN},
                                body: JSON.stringify(body || {})});
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function say(text, bad) {
  const el = document.getElementById("status");
  if (el) { el.textContent = text; el.className = bad ? "error" : ""; } else if (bad) alert(text);
}

function monthTitle(m) {
  if (m === "undated") return "Undated";
  return new Date(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 1)
    .toLocaleString("en-GB", {month: "long", year: "numeric"});
}

// ---------------------------------------------------------------- infinite scroll
function tileEl(p) {
  const a = document.createElement("a");
  a.className = "tile"; a.href = p.href; a.dataset.key = p.key; a.title = `${p.name} ${(p.taken_at || "").slice(0, 10)}`;
  const img = document.createElement("img");
  img.loading = "lazy"; img.src = p.thumb || ""; img.alt = p.name;
  a.appendChild(img);
  return a;
}

function setupScroll(grid) {
  const more = document.querySelector(`.more[data-for="${grid.id}"]`);
  if (!more) return;
  let busy = false;
  let lastMonth = [...grid.querySelectorAll("h2.month")].map(h => h.dataset.month).pop();
  const load = async () => {
    const next = grid.dataset.next;
    if (busy || !next) return;
    busy = true;
    const src = grid.dataset.source;
    const url = src.includes("?") ? `${src}&offset=${encodeURIComponent(next)}` : `${src}?cursor=${encodeURIComponent(next)}`;
    try {
      const data = await (await fetch(url)).json();
      for (const p of data.photos) {
        if (src.startsWith("/api/timeline") && p.month !== lastMonth) {
          const h = document.createElement("h2");
          h.className = "month"; h.id = `m-${p.month}`; h.dataset.month = p.month; h.textContent = monthTitle(p.month);
          grid.appendChild(h); lastMonth = p.month;
        }
        grid.appendChild(tileEl(p));
      }
      const following = data.next !== undefined ? data.next : data.next_offset;
      grid.dataset.next = following === null || following === undefined ? "" : String(following);
      if (!grid.dataset.next) more.remove();
    } finally { busy = false; }
    if (grid.dataset.next && more.getBoundingClientRect().top < window.innerHeight + 800) load();
  };
  new IntersectionObserver(entries => { if (entries.some(e => e.isIntersecting)) load(); },
                           {rootMargin: "800px"}).observe(more);
}
document.querySelectorAll(".grid[data-source]").forEach(setupScroll);

// ---------------------------------------------------------------- search suggestions
const box = document.getElementById("q"), list = document.getElementById("suggestions");
let asked = 0;
box.addEventListener("input", async () => {
  const mine = ++asked;
  const data = await (await fetch(`/api/suggest?q=${encodeURIComponent(box.value)}`)).json();
  if (mine !== asked) return;  // an older answer arriving late
  list.replaceChildren(...data.map(s => {
    const li = document.createElement("li");
    li.className = `suggestion ${s.kind}`; li.dataset.query = s.query; li.setAttribute("role", "option");
    li.textContent = s.text;
    const kind = document.createElement("small"); kind.textContent = ` ${s.kind} · ${s.count}`; li.appendChild(kind);
    li.addEventListener("mousedown", e => { e.preventDefault(); box.value = s.query + " "; list.hidden = true; box.focus(); });
    return li;
  }));
  list.hidden = data.length === 0;
});
box.addEventListener("blur", () => { list.hidden = true; });

// ---------------------------------------------------------------- people
for (const person of document.querySelectorAll(".person[data-id]")) {
  const id = person.dataset.id;
  person.querySelector("form.name").addEventListener("submit", async e => {
    e.preventDefault();
    const name = e.target.elements.name.value.trim();
    try { const p = await post(`/api/people/${encodeURIComponent(id)}/name`, {name}); say(`${p.id} is now ${p.name}`); }
    catch (err) { say(err.message, true); }
  });
  person.querySelector("button.hide").addEventListener("click", async () => {
    const hide = person.dataset.hidden !== "1";
    try { await post(`/api/people/${encodeURIComponent(id)}/hide`, {hidden: hide}); person.remove(); say(`${id} ${hide ? "hidden" : "listed again"}`); }
    catch (err) { say(err.message, true); }
  });
}
const mergeButton = document.getElementById("merge");
if (mergeButton) {
  const picked = () => [...document.querySelectorAll(".person .pick:checked")].map(c => c.closest(".person").dataset.id);
  document.addEventListener("change", e => { if (e.target.classList.contains("pick")) mergeButton.disabled = picked().length < 2; });
  mergeButton.addEventListener("click", async () => {
    try { const p = await post("/api/people/merge", {ids: picked()}); say(`merged into ${p.name || p.id}`); location.reload(); }
    catch (err) { say(err.message, true); }
  });
}
for (const pair of document.querySelectorAll(".pair")) {
  const {a, b} = pair.dataset;
  pair.querySelector(".same").addEventListener("click", async () => {
    try { await post("/api/people/merge", {ids: [a, b]}); location.reload(); } catch (err) { say(err.message, true); }
  });
  pair.querySelector(".apart").addEventListener("click", async () => {
    try { await post("/api/people/apart", {a, b}); pair.remove(); } catch (err) { say(err.message, true); }
  });
}

// ---------------------------------------------------------------- shares
for (const form of document.querySelectorAll("form.share")) {
  form.addEventListener("submit", async e => {
    e.preventDefault();
    const out = form.querySelector(".share-result");
    const body = {title: form.elements.title.value, expires: form.elements.expires.value};
    if (form.dataset.query) body.query = form.dataset.query; else body.keys = [form.dataset.key];
    try {
      const made = await post("/api/shares", body);
      out.replaceChildren(Object.assign(document.createElement("a"), {href: made.link, target: "_blank", textContent: made.album ? "album link" : "link"}));
      out.append(made.expires ? ` until ${made.expires}` : " (a local folder: does not expire)");
    } catch (err) { out.textContent = err.message; out.className = "share-result error"; }
  });
}
for (const row of document.querySelectorAll(".share-row")) {
  row.querySelector(".revoke").addEventListener("click", async () => {
    try { await post(`/api/shares/${encodeURIComponent(row.dataset.share)}/revoke`); row.remove(); say(`revoked ${row.dataset.share}`); }
    catch (err) { say(err.message, true); }
  });
}

// ---------------------------------------------------------------- selecting photos to share
const selectButton = document.getElementById("select"), bar = document.getElementById("selection");
const picked = new Set();
function showPicked() { document.getElementById("picked-count").textContent = `${picked.size} selected`; }
if (selectButton) {
  selectButton.addEventListener("click", () => { document.body.classList.add("selecting"); bar.hidden = false; });
  document.getElementById("stop-selecting").addEventListener("click", () => {
    document.body.classList.remove("selecting"); bar.hidden = true; picked.clear(); showPicked();
    document.querySelectorAll(".tile.picked").forEach(t => t.classList.remove("picked"));
  });
  document.addEventListener("click", e => {
    const tile = e.target.closest(".tile");
    if (!tile || !document.body.classList.contains("selecting")) return;
    e.preventDefault();
    if (picked.delete(tile.dataset.key)) tile.classList.remove("picked");
    else { picked.add(tile.dataset.key); tile.classList.add("picked"); }
    showPicked();
  });
  document.getElementById("share-picked").addEventListener("click", async () => {
    const out = document.getElementById("picked-result");
    try {
      const made = await post("/api/shares", {keys: [...picked], title: document.getElementById("pick-title").value,
                                              expires: document.getElementById("pick-expires").value});
      out.replaceChildren(Object.assign(document.createElement("a"), {href: made.link, target: "_blank", textContent: "album link"}));
      out.append(made.expires ? ` until ${made.expires}` : " (a local folder: does not expire)");
    } catch (err) { out.textContent = err.message; }
  });
}
