// The live view polls the emulator's feed and redraws; it never writes.
"use strict";

const feedURL = "feed.json";
const pollMillis = 500;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function serverTable(account) {
  const table = el("table", { "data-account": account.name },
    el("caption", {}, "Account " + account.name + " (" + account.servers.length + ")"));
  table.append(el("tr", {}, el("th", {}, "id"), el("th", {}, "name"), el("th", {}, "status"),
    el("th", {}, "location"), el("th", {}, "updated")));
  for (const s of account.servers) {
    table.append(el("tr", { "data-server-id": String(s.id), "data-status": s.status },
      el("td", {}, String(s.id)), el("td", {}, s.name),
      el("td", {}, el("span", { class: "status", "data-status": s.status }, s.status)),
      el("td", {}, s.location), el("td", {}, s.updated_at.slice(11, 19))));
  }
  return table;
}

function kind(r) {
  if (r.fault) return "fault";
  if (r.status === 429) return "throttled";
  if (r.status >= 500 || r.status === 0) return "failed";
  if (r.status >= 400) return "refused";
  return "ok";
}

function requestItem(r) {
  const k = kind(r);
  return el("li", { "data-kind": k, "data-status": String(r.status) },
    el("span", {}, r.time.slice(11, 23)),
    el("span", { class: "chip " + k }, r.status === 0 ? "dropped" : String(r.status)),
    el("span", {}, r.method + " " + r.path), el("span", {}, r.account || "-"),
    k === "fault" ? el("span", { class: "chip fault" }, "fault") : "");
}

function draw(feed) {
  const accounts = document.getElementById("accounts");
  accounts.replaceChildren(...feed.accounts.map(serverTable));
  const timeline = document.getElementById("timeline");
  const requests = feed.requests || [];
  timeline.replaceChildren(...requests.slice().reverse().map(requestItem));
  // The feed carries the latest requests only; say so once there were more.
  const total = feed.journal ? feed.journal.total : requests.length;
  document.getElementById("journal").textContent =
    total > requests.length ? "(the latest " + requests.length + " of " + total + ")" : "";
}

async function poll() {
  const status = document.getElementById("connection");
  try {
    const resp = await fetch(feedURL, { cache: "no-store" });
    if (!resp.ok) throw new Error("feed answered " + resp.status);
    draw(await resp.json());
    status.textContent = "live, updated " + new Date().toLocaleTimeString();
  } catch (err) {
    // The emulator may be restarting: say so and keep trying.
    status.textContent = "emulator not reachable (" + err.message + "), retrying";
  }
  setTimeout(poll, pollMillis);
}

poll();
