// thereyet pages: live updates over Server-Sent Events, posting without reloads,
// times in the reader's zone. Plain JavaScript, no build step. Text is always set
// with textContent; only HTML that the hub rendered and sanitized is inserted as HTML.
// Every page works without this script; it only keeps them live and easier to read.
"use strict";

const csrf = () => document.body.dataset.csrf || "";
const liveState = () => document.getElementById("live-state");

function connect(url, handlers) {
  // EventSource reconnects by itself and sends Last-Event-ID; we show the gap.
  const source = new EventSource(url);
  source.onopen = () => { const el = liveState(); if (el) el.hidden = true; };
  source.onerror = () => { const el = liveState(); if (el) el.hidden = false; };
  for (const [name, fn] of Object.entries(handlers)) {
    source.addEventListener(name, (ev) => fn(JSON.parse(ev.data)));
  }
  return source;
}

// -- times: local, relative, exact on hover -------------------------------------------

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

function relative(date) {
  const seconds = (date.getTime() - Date.now()) / 1000;
  const steps = [[60, "second"], [3600, "minute"], [86400, "hour"], [Infinity, "day"]];
  let unit = 1;
  for (const [limit, name] of steps) {
    if (Math.abs(seconds) < limit) return RELATIVE.format(Math.round(seconds / unit), name);
    unit = limit;
  }
  return "";
}

function localText(date, short) {
  const sameDay = date.toDateString() === new Date().toDateString();
  const clock = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (short && sameDay) return clock;
  return `${date.toLocaleDateString([], { month: "short", day: "numeric" })} ${clock}`;
}

function showTime(el) {
  const date = new Date(el.dateTime);
  if (Number.isNaN(date.getTime())) return;
  const short = el.hasAttribute("data-short");
  const text = short ? localText(date, true) : `${localText(date, false)} (${relative(date)})`;
  if (el.textContent !== text) el.textContent = text;
  el.title = `${date.toLocaleString()} · ${el.dateTime.slice(0, 19).replace("T", " ")} UTC`;
}

function showTimes(root) {
  root.querySelectorAll("time[datetime]").forEach(showTime);
}

function timeElement(iso, short) {
  const el = document.createElement("time");
  el.dateTime = iso;
  if (short) el.setAttribute("data-short", "");
  el.textContent = `${iso.slice(0, 16).replace("T", " ")} UTC`;
  showTime(el);
  return el;
}

// -- runs: the dashboard, a room's runs in progress, a run page ------------------------

const TONES = ["tone-bad", "tone-warn", "tone-ok", "tone-run", "tone-idle"];

function setTone(el, tone) {
  el.classList.remove(...TONES);
  el.classList.add(`tone-${tone}`);
}

function setBar(bar, value) {
  if (!bar) return;
  if (value === null || value === undefined) bar.removeAttribute("value");
  else bar.value = value;
}

function setField(root, name, value) {
  const el = root.querySelector(`[data-f="${name}"]`);
  if (!el) return;
  if (name === "bar") setBar(el, value);
  else if (el.textContent !== value) el.textContent = value;
}

function fillRun(li, run) {
  li.id = `run-${run.id}`;
  li.dataset.run = run.id;
  li.dataset.status = run.status;
  li.classList.toggle("attention", run.show.attention);
  setTone(li, run.show.tone);
  const link = li.querySelector("a.job");
  if (link) link.href = `/runs/${run.id}`;
  const bar = li.querySelector("[data-f=bar]");
  if (bar) bar.setAttribute("aria-label", `${run.job} progress`);
  const badge = li.querySelector("[data-f=state]");
  if (badge) setTone(badge, run.show.tone);
  setField(li, "job", run.job);
  setField(li, "host", run.host || "");
  setField(li, "trigger", run.trigger || "");
  for (const key of ["state", "percent", "amount", "rate", "eta", "elapsed", "bar"]) {
    setField(li, key, run.show[key]);
  }
}

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

function cell(label, content) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.append(content);
  return td;
}

function finishedRow(run) {
  const tr = document.createElement("tr");
  tr.className = `tone-${run.show.tone}${run.show.attention ? " attention" : ""}`;
  const link = document.createElement("a");
  link.href = `/runs/${run.id}`;
  link.textContent = run.job;
  const badge = document.createElement("span");
  badge.className = `badge tone-${run.show.tone}`;
  badge.textContent = run.status;
  const finished = run.finished_at ? timeElement(run.finished_at, true) : "";
  tr.append(cell("Job", link), cell("Status", badge), cell("Duration", run.show.elapsed),
            cell("Host", run.host || ""), cell("Trigger", run.trigger || ""), cell("Finished", finished));
  return tr;
}

function cardBars(run) {
  // Run cards in a room carry a small live bar while their run is in progress.
  document.querySelectorAll(`[data-card-run="${run.id}"]`).forEach((card) => {
    let bar = card.querySelector("progress.mini");
    if (!bar) {
      bar = document.createElement("progress");
      bar.className = "bar mini";
      bar.max = 100;
      bar.setAttribute("aria-label", `${run.job} progress`);
      card.querySelector(".msg-body").after(bar);
    }
    setTone(card, run.show.tone);
    setBar(bar, FINISHED.has(run.status) && run.status === "succeeded" ? 100 : run.show.bar);
  });
}

function liveRuns(list) {
  const template = document.getElementById(list.dataset.template);
  const empty = document.getElementById(list.dataset.empty);
  const finished = document.getElementById(list.dataset.finished || "");
  connect(list.dataset.liveRuns, {
    runs(runs) {
      for (const run of runs) {
        cardBars(run);
        let li = document.getElementById(`run-${run.id}`);
        if (FINISHED.has(run.status)) {
          if (li && li.parentElement === list) {
            li.remove();
            if (finished) {
              finished.querySelector(".empty-row")?.remove();
              finished.prepend(finishedRow(run));
            }
          }
          continue;
        }
        if (!li && template) {
          li = template.content.firstElementChild.cloneNode(true);
          list.prepend(li);
        }
        if (li) fillRun(li, run);
      }
      if (empty) empty.hidden = list.children.length > 0;
    },
  });
}

function atBottom(el) {
  return el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
}

function statRows(stats) {
  return Object.entries(stats).map(([name, value]) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    const td = document.createElement("td");
    th.scope = "row";
    th.textContent = name;
    td.textContent = String(value);
    tr.append(th, td);
    return tr;
  });
}

function runPage(list) {
  const li = list.querySelector("li.run");
  const log = document.getElementById("log");
  const stats = document.querySelector("#stats tbody");
  if (log) log.scrollTop = log.scrollHeight; // the log opens at its newest line
  connect(list.dataset.live, {
    run([run]) {
      fillRun(li, run);
      document.querySelectorAll("[data-run-field]").forEach((el) => {
        const value = run[el.dataset.runField];
        if (value === null || value === undefined) el.textContent = "—";
        else if (el.hasAttribute("data-time")) el.replaceChildren(timeElement(String(value), false));
        else el.textContent = String(value);
      });
      if (log) {
        const stick = atBottom(log);
        const text = run.log_tail.join("\n");
        if (log.textContent !== text) log.textContent = text;
        if (stick) log.scrollTop = log.scrollHeight;
      }
      if (stats && Object.keys(run.stats).length) stats.replaceChildren(...statRows(run.stats));
    },
  });
}

// -- rooms: open at the newest message, older pages on scroll, live messages ----------

// The same allow-list as domain/media.py: raster images only, compared without parameters.
const INLINE_IMAGES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const shownInline = (type) => INLINE_IMAGES.has((type || "").split(";")[0].trim().toLowerCase());

function fileBox(a, share) {
  const box = document.createElement("div");
  box.className = "msg-file";
  const link = document.createElement("a");
  const url = share ? `${a.url}?share=${encodeURIComponent(share)}` : a.url;
  link.href = url;
  if (shownInline(a.content_type)) {
    const img = document.createElement("img");
    img.src = url;
    img.alt = a.name;
    link.append(img);
  } else {
    link.textContent = `${a.name} (${a.size} bytes)`;
  }
  box.append(link);
  return box;
}

function messageItem(m, share) {
  const li = document.createElement("li");
  li.className = `msg kind-${m.kind}`;
  li.id = `msg-${m.id}`;
  li.dataset.id = m.id;
  const meta = document.createElement("div");
  meta.className = "msg-meta";
  const author = document.createElement("span");
  author.className = "author";
  author.textContent = m.author;
  meta.append(author, " ", timeElement(m.created_at, true));
  const runId = m.kind === "run" && m.data ? m.data.run_id : null;
  if (runId) {
    li.dataset.cardRun = runId;
    if (!share) {
      const open = document.createElement("a");
      open.className = "card-link";
      open.href = `/runs/${runId}`;
      open.textContent = "open run";
      meta.append(open);
    }
  }
  const body = document.createElement("div");
  body.className = "msg-body";
  body.innerHTML = m.html; // rendered and sanitized by the hub
  li.append(meta, body);
  if (m.attachment) li.append(fileBox(m.attachment, share));
  return li;
}

const nearPageEnd = () => window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;

function olderPages(list) {
  // Scrolling up to the top of the room fetches the page before it, keeping the
  // reader's place; the link is there for those without this script.
  const holder = document.getElementById("older");
  const link = holder && holder.querySelector("a[data-older]");
  if (!link) return;
  let loading = false;
  async function load() {
    if (loading || holder.hidden) return;
    loading = true;
    const response = await fetch(link.dataset.older, { headers: { Accept: "text/html" } });
    if (response.redirected) {
      location.href = response.url; // signed out meanwhile: the sign-in page
      return;
    }
    if (response.ok) {
      const fromBottom = document.documentElement.scrollHeight - window.scrollY;
      const page = document.createElement("template");
      page.innerHTML = await response.text(); // rendered and sanitized by the hub
      showTimes(page.content);
      list.prepend(page.content);
      window.scrollTo(0, document.documentElement.scrollHeight - fromBottom);
      const next = response.headers.get("X-Older");
      holder.hidden = !next;
      if (next) {
        link.dataset.older = link.dataset.older.replace(/before=\d+/, `before=${next}`);
        link.href = `?before=${next}`;
      }
    }
    loading = false;
  }
  link.addEventListener("click", (ev) => { ev.preventDefault(); load(); });
  new IntersectionObserver((seen) => { if (seen.some((e) => e.isIntersecting)) load(); })
    .observe(holder);
}

async function send(url, body, type) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": type, "X-CSRF-Token": csrf() },
    body,
  });
  if (!response.ok) alert((await response.json()).error || "could not send");
  return response.ok;
}

function sayForm(form) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = form.elements.text.value.trim();
    if (!text) return;
    if (await send(form.action, JSON.stringify({ text }), "application/json")) {
      form.elements.text.value = "";
    }
  });
  form.elements.text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
}

function uploadForm(form) {
  // Choosing a file asks for its caption first; Upload sends both.
  const file = form.querySelector("input[type=file]");
  const box = document.getElementById("upload");
  const caption = document.getElementById("upload-caption");
  const reset = () => { file.value = ""; caption.value = ""; box.hidden = true; };
  file.addEventListener("change", () => {
    const chosen = file.files[0];
    if (!chosen) return;
    document.getElementById("upload-name").textContent = chosen.name;
    box.hidden = false;
    caption.focus();
  });
  caption.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); document.getElementById("upload-send").click(); }
  });
  document.getElementById("upload-cancel").addEventListener("click", reset);
  document.getElementById("upload-send").addEventListener("click", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    const query = new URLSearchParams({ name: chosen.name, text: caption.value.trim() });
    const type = chosen.type || "application/octet-stream";
    if (await send(`${file.dataset.upload}?${query}`, chosen, type)) reset();
  });
}

function room(list) {
  const share = list.dataset.share || null;
  window.scrollTo(0, document.body.scrollHeight); // a room opens at its newest message
  olderPages(list);
  connect(list.dataset.live, {
    messages(messages) {
      const follow = nearPageEnd();
      document.getElementById("room-empty")?.remove();
      for (const m of messages) {
        if (!document.getElementById(`msg-${m.id}`)) list.append(messageItem(m, share));
      }
      if (follow) window.scrollTo(0, document.body.scrollHeight);
    },
  });
  const form = document.getElementById("say");
  if (!form) return;
  sayForm(form);
  uploadForm(form);
}

// -- the menu and tables --------------------------------------------------------------

function menu(details) {
  document.addEventListener("click", (ev) => {
    if (details.open && !details.contains(ev.target)) details.open = false;
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && details.open) {
      details.open = false;
      details.querySelector("summary").focus();
    }
  });
}

function labelCells(table) {
  // On a phone a table reads as cards whose cells are labelled by their column.
  const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  table.querySelectorAll("tbody tr").forEach((tr) => {
    [...tr.children].forEach((td, i) => {
      if (!td.dataset.label && heads[i]) td.dataset.label = heads[i];
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  showTimes(document);
  setInterval(() => showTimes(document), 30_000);
  document.querySelectorAll("table.finished").forEach(labelCells);
  const details = document.getElementById("menu");
  if (details) menu(details);
  document.querySelectorAll("ul.runs[data-live-runs]").forEach(liveRuns);
  const single = document.querySelector("ul.runs.single");
  if (single) runPage(single);
  const messages = document.getElementById("messages");
  if (messages) room(messages);
});
