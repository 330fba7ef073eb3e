// thereyet pages: live updates over Server-Sent Events, posting without reloads.
// Plain JavaScript, no build step. Text is always set with textContent; only
// message HTML that the hub rendered and sanitized is inserted as HTML.
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

function setField(root, name, value) {
  const el = root.querySelector(`[data-f="${name}"]`);
  if (!el) return;
  if (name === "bar") {
    el.style.width = `${value}%`;
    el.parentElement.setAttribute("aria-valuenow", String(value));
  } else if (el.textContent !== value) {
    el.textContent = value;
  }
}

function fillRun(li, run) {
  li.id = `run-${run.id}`;
  li.dataset.run = run.id;
  li.dataset.status = run.status;
  li.classList.toggle("attention", run.show.attention);
  const link = li.querySelector("a.job");
  if (link) link.href = `/runs/${run.id}`;
  setField(li, "job", run.job);
  setField(li, "host", run.host || "");
  setField(li, "trigger", run.trigger || "");
  for (const key of ["state", "percent", "amount", "rate", "eta", "elapsed", "bar"]) {
    setField(li, key, run.show[key]);
  }
}

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

function finishedRow(run) {
  const tr = document.createElement("tr");
  if (run.show.attention) tr.className = "attention";
  const cells = [run.job, run.status, run.show.elapsed, run.host || "", run.trigger || "",
                 (run.finished_at || "").slice(11, 16)];
  cells.forEach((text, i) => {
    const td = document.createElement("td");
    if (i === 0) {
      const a = document.createElement("a");
      a.href = `/runs/${run.id}`;
      a.textContent = text;
      td.append(a);
    } else if (i === 1) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = text;
      td.append(badge);
    } else {
      td.textContent = text;
    }
    tr.append(td);
  });
  return tr;
}

function dashboard(list) {
  const template = document.getElementById("run-template");
  const empty = document.getElementById("active-empty");
  const finished = document.getElementById("finished");
  connect(list.dataset.live, {
    runs(runs) {
      for (const run of runs) {
        let li = document.getElementById(`run-${run.id}`);
        if (FINISHED.has(run.status)) {
          if (li && li.parentElement === list) {
            li.remove();
            if (finished) finished.prepend(finishedRow(run));
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

function runPage(list) {
  const li = list.querySelector("li.run");
  const log = document.getElementById("log");
  const stats = document.querySelector("#stats tbody");
  connect(list.dataset.live, {
    run([run]) {
      fillRun(li, run);
      document.querySelectorAll("[data-run-field]").forEach((el) => {
        const value = run[el.dataset.runField];
        el.textContent = value === null || value === undefined ? "—" : String(value);
      });
      if (log) {
        const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.textContent = run.log_tail.join("\n");
        if (stick) log.scrollTop = log.scrollHeight;
      }
      if (stats) {
        stats.replaceChildren(...Object.entries(run.stats).map(([name, value]) => {
          const tr = document.createElement("tr");
          const th = document.createElement("th");
          const td = document.createElement("td");
          th.textContent = name;
          td.textContent = String(value);
          tr.append(th, td);
          return tr;
        }));
      }
    },
  });
}

// The same allow-list as domain/media.py: raster images only, compared without parameters.
const INLINE_IMAGES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const shownInline = (type) => INLINE_IMAGES.has((type || "").split(";")[0].trim().toLowerCase());

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
  const time = document.createElement("time");
  time.dateTime = m.created_at;
  time.textContent = m.time;
  meta.append(author, " ", time);
  const body = document.createElement("div");
  body.className = "msg-body";
  body.innerHTML = m.html; // rendered and sanitized by the hub
  li.append(meta, body);
  if (m.attachment) {
    const a = m.attachment;
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
    li.append(box);
  }
  return li;
}

function room(list) {
  const share = new URL(list.dataset.live, location.href).searchParams.get("share");
  connect(list.dataset.live, {
    messages(messages) {
      const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
      for (const m of messages) {
        if (!document.getElementById(`msg-${m.id}`)) list.append(messageItem(m, share));
      }
      if (nearBottom) window.scrollTo(0, document.body.scrollHeight);
    },
  });
  const form = document.getElementById("say");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = form.elements.text.value.trim();
    if (!text) return;
    const response = await fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ text }),
    });
    if (response.ok) form.elements.text.value = "";
    else alert((await response.json()).error || "could not send");
  });
  form.elements.text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
  const file = form.querySelector("input[type=file]");
  file.addEventListener("change", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    const url = `${file.dataset.upload}?name=${encodeURIComponent(chosen.name)}`;
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": chosen.type || "application/octet-stream", "X-CSRF-Token": csrf() },
      body: chosen,
    });
    if (!response.ok) alert((await response.json()).error || "could not attach");
    file.value = "";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const active = document.getElementById("active");
  if (active) dashboard(active);
  const single = document.querySelector("ul.runs.single");
  if (single) runPage(single);
  const messages = document.getElementById("messages");
  if (messages) room(messages);
});
