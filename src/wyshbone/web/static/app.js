// Wyshbone Supervisor page: plain JavaScript over the JSON API and the event stream.
// Everything from the data is written with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const ICONS = { pending: "○", running: "◔", completed: "✔", failed: "✖", skipped: "⤼", cancelled: "■" };
const FINISHED = new Set(["completed", "failed", "cancelled"]);
// Words for people: the API's machine values (status, provider, source) as the page says them.
// The CLI (wyshbone/cli.py) says the same words.
const STEP_WORDS = {
  pending: "waiting", running: "running", completed: "done", failed: "failed", skipped: "not run", cancelled: "cancelled",
};
const PLAN_WORDS = {
  pending_approval: "waiting for approval", executing: "running", succeeded: "succeeded", partial: "partial",
  failed: "failed", cancelled: "cancelled",
};
const PROVIDER_NAMES = {
  local_directory: "Wyshbone directory", overpass: "OpenStreetMap", google_places: "Google Places", hunter: "Hunter.io",
  website: "business websites", wyshbone_store: "lead store", outreach_drafts: "email drafts",
  hunter_verifier: "Hunter.io verifier", monitor: "monitor",
};
const SOURCE_NAMES = {
  fsa_fhrs: "FSA", nhs_ods_dental: "NHS", openbrewerydb: "Open Brewery DB", open_pubs: "Open Pubs",
  osm: "OpenStreetMap", google_places: "Google Places",
};
const QUALIFIER_LABELS = JSON.parse($("qualifier-labels").textContent);
let parsedGoalText = "";
let currentPlanId = null;
// The plan whose leads and outreach show: the followed plan, or, for a monitor's check, the monitor's own plan.
let resultsPlanId = null;
const checkOrigins = new Map();  // a monitor check's plan id → the plan whose list it adds to
let stream = null;
let pollTimer = null;
let leads = [];
let sortKey = null;
let outreachListId = null;
let sendWatch = null;
let monitors = [];

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  const response = await fetch(path, options);
  const data = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error((data && data.detail) || `HTTP ${response.status}`);
    error.problems = data && data.problems;
    error.status = response.status;
    throw error;
  }
  return data;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

// A message in the page's flow, above the progress: it never covers what it is about.
function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function providers(name) {
  return String(name || "").split("+").filter(Boolean).map((p) => PROVIDER_NAMES[p] || p).join(" + ");
}

// A step's message: the first line is for everyone (providers named as a person knows them); the lines after
// it (the settings that fix it) fold away.
function reasonNodes(message) {
  const [first, ...rest] = String(message || "").trim().split("\n");
  const nodes = [el("span", first.replace(/\b([a-z_]+)(?=: )/g, (name) => PROVIDER_NAMES[name] || name), "detail")];
  const details = rest.join("\n").trim();
  if (details) {
    const box = el("details", null, "setup");
    box.append(el("summary", first.startsWith("Not set up") ? "How to set it up" : "Details"), el("code", details));
    nodes.push(box);
  }
  return nodes;
}

function outcomeHeadline(outcome) {
  return outcome === "cancelled" ? "Cancelled" : `Finished: ${outcome}`;
}

function stepWord(step) {
  if (step.status === "skipped" && String(step.errorMessage || "").startsWith("Not set up")) return "not set up";
  if (step.status === "running" && step.retryInSeconds != null) return "retrying";
  return STEP_WORDS[step.status] || step.status;
}

function showProblems(problems, id = "goal-problems") {
  const box = $(id);
  box.replaceChildren(...problems.map((p) => el("p", p)));
  box.hidden = problems.length === 0;
}

function when(iso) {
  const node = el("time", new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));
  node.dateTime = iso;
  return node;
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || `${one}s`}`;
}

// A cell that says what it holds when the table is stacked at phone width.
function cell(label, value) {
  const td = el("td", value);
  td.dataset.label = label;
  return td;
}

// 1. Goal → parsed fields
$("goal-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("goal-text").value.trim();
  try {
    const parsed = await api("POST", "/api/goal/parse", { goal: text });
    parsedGoalText = text;
    showProblems(parsed.problems);
    const goal = parsed.goal;
    if (goal) {
      $("f-persona").value = goal.targetPersona || "";
      $("f-region").value = goal.targetRegion || "";
      $("f-country").value = goal.country || "";
      $("f-volume").value = goal.volume;
      $("f-qualifiers").value = (goal.qualifiers || []).map((q) => QUALIFIER_LABELS[q] || q).join(", ");
      $("f-email").checked = goal.preferredChannels.includes("email");
      $("f-monitor").checked = goal.includeMonitoring;
      $("f-cadence").value = goal.monitorCadence || "weekly";
    }
    $("assumptions").replaceChildren(...parsed.assumptions.map((a) => el("li", a)));
    $("goal-fields").hidden = !goal;
  } catch (error) {
    showProblems(error.problems || [error.message]);
    $("goal-fields").hidden = true;
  }
});

function overrides() {
  return {
    targetPersona: $("f-persona").value.trim() || null,
    targetRegion: $("f-region").value.trim() || null,
    country: $("f-country").value.trim() || null,
    volume: Number($("f-volume").value) || null,
    preferredChannels: $("f-email").checked ? ["email"] : [],
    includeMonitoring: $("f-monitor").checked,
    monitorCadence: $("f-monitor").checked ? $("f-cadence").value : null,
    qualifiers: qualifierKeys($("f-qualifiers").value),
  };
}

// "Italian, dog-friendly" → ["italian", "dog_friendly"]; a word the page does not know goes as typed.
function qualifierKeys(text) {
  const byLabel = Object.fromEntries(Object.entries(QUALIFIER_LABELS).map(([key, label]) => [label.toLowerCase(), key]));
  const key = (word) => byLabel[word] || (word.replace(/[ -]/g, "_") in QUALIFIER_LABELS ? word.replace(/[ -]/g, "_") : word);
  const words = text.split(/[,;]/).map((w) => w.trim().toLowerCase()).filter(Boolean);
  return [...new Set(words.map(key))].slice(0, 10);
}

// 2. Start → plan for approval
$("goal-fields").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const plan = await api("POST", "/api/plan/start", { goal: parsedGoalText, overrides: overrides() });
    showPlan(plan);
    loadHistory();
  } catch (error) {
    showProblems(error.problems || [error.message]);
  }
});

function showPlan(plan) {
  currentPlanId = plan.planId;
  const availability = Object.fromEntries(plan.estimate.steps.map((s) => [s.stepId, s]));
  const idle = new Set(plan.estimate.calls.filter((c) => !c.configured).map((c) => `${c.stepId} ${c.provider}`));
  $("plan-steps").replaceChildren(...plan.steps.map((step, i) => {
    const a = availability[step.id];
    const runs = !a || a.willRun;
    const item = el("li", null, runs ? "" : "status-skipped");
    item.append(el("strong", `${i + 1}. ${step.title}`));
    item.append(el("span", step.description, "detail"));
    const usable = step.providers.filter((p) => !runs || !idle.has(`${step.id} ${p}`)).map((p) => PROVIDER_NAMES[p] || p);
    const unset = runs ? step.providers.filter((p) => idle.has(`${step.id} ${p}`)).map((p) => PROVIDER_NAMES[p] || p) : [];
    if (usable.length) {
      const chain = el("span", `${runs ? "Uses" : "Would use"}: ${usable.join(runs ? " → " : " or ")}`, "detail");
      if (unset.length) chain.append(` (not set up: ${unset.join(", ")})`);
      item.append(chain);
    }
    if (a && a.reason) item.append(...reasonNodes(a.reason));
    return item;
  }));
  const paid = plan.estimate.calls.filter((c) => c.configured);
  const calls = paid.map((c) => `${PROVIDER_NAMES[c.provider] || c.provider}: up to ${plural(c.calls, "call")}`).join("; ");
  $("plan-estimate").textContent =
    `Estimated cost: $${plan.estimate.totalCostUsd.toFixed(2)}` + (calls ? ` (${calls})` : " (no paid calls)");
  const warnings = plan.warnings || [];
  $("plan-warnings-list").replaceChildren(...warnings.map((w) => el("li", w)));
  $("plan-warnings").hidden = warnings.length === 0;
  $("plan-section").hidden = false;
  $("approve-plan").disabled = plan.status !== "pending_approval";
  $("cancel-plan").disabled = plan.status !== "pending_approval";
}

$("approve-plan").addEventListener("click", async () => {
  try {
    await api("POST", `/api/plan/${currentPlanId}/approve`);
    toast("Plan Approved – Wyshbone will now execute your plan");
    $("plan-section").hidden = true;
    follow(currentPlanId);
    loadHistory();
  } catch (error) {
    toast(error.message);
  }
});

$("cancel-plan").addEventListener("click", async () => {
  try {
    await api("POST", `/api/plan/${currentPlanId}/cancel`);
    toast("Plan cancelled");
    $("plan-section").hidden = true;
    loadHistory();
  } catch (error) {
    toast(error.message);
  }
});

// 3. Live progress: the event stream, with polling when it drops
function follow(planId) {
  if (stream) stream.close();
  clearInterval(pollTimer);
  $("progress-section").hidden = false;
  $("results-section").hidden = true;
  hideOutreach();
  refresh(planId);
  if (!window.EventSource) return poll(planId);
  stream = new EventSource(`/api/plan/${planId}/stream`);
  stream.onmessage = () => refresh(planId);
  for (const type of ["PLAN_STARTED", "PLAN_COMPLETED", "PLAN_CANCELLED", "STEP_STARTED", "STEP_SUCCEEDED",
    "STEP_FAILED", "STEP_SKIPPED", "STEP_RETRYING", "STEP_FALLBACK"]) {
    stream.addEventListener(type, () => refresh(planId));
  }
  stream.onerror = () => { if (!pollTimer) poll(planId); };  // EventSource reconnects by itself; poll meanwhile
}

function poll(planId) {
  pollTimer = setInterval(() => refresh(planId), 1500);
}

async function refresh(planId) {
  if (planId !== currentPlanId) return;
  let progress;
  try {
    progress = await api("GET", `/api/plan/${planId}/progress`);
  } catch (error) {
    return;
  }
  renderProgress(progress);
  if (FINISHED.has(progress.status)) {
    if (stream) { stream.close(); stream = null; }
    clearInterval(pollTimer);
    pollTimer = null;
    resultsPlanId = checkOrigins.get(planId) || planId;
    if (progress.status !== "cancelled" || resultsPlanId !== planId) showResults(resultsPlanId);
    loadHistory();
    loadMonitors();
  }
}

function renderProgress(progress) {
  const steps = progress.steps;
  const current = steps[progress.currentStepIndex];
  // Finished: the outcome (succeeded, partial, failed), never "completed" above a partial run.
  const outcome = progress.status === "cancelled" ? "cancelled" : progress.detail || (progress.status === "failed" ? "failed" : "succeeded");
  $("progress-summary").textContent = FINISHED.has(progress.status)
    ? outcomeHeadline(outcome)
    : progress.detail === "queued"
      ? "Queued: other plans are running on this server; this one starts as soon as one of them finishes."
      : current && progress.status === "executing"
      ? `Step ${current.index + 1} of ${progress.totalSteps} · ${current.title} · ${stepWord(current)}`
      : "Waiting to start";
  $("progress-steps").replaceChildren(...steps.map((step) => {
    const item = el("li", null, `status-${step.status}`);
    item.append(el("span", `${ICONS[step.status] || ""} ${step.title} — ${stepWord(step)}`));
    const bits = [];
    if (step.retryInSeconds != null) bits.push(`retrying in ${step.retryInSeconds} s (attempt ${step.attempts})`);
    else if (step.attempts > 1) bits.push(`attempt ${step.attempts}`);
    if (step.provider) bits.push(`via ${providers(step.provider)}`);
    if (bits.length) item.append(el("span", bits.join(" · "), "detail"));
    if (step.errorMessage) item.append(...reasonNodes(step.errorMessage));
    return item;
  }));
}

// 4. Results
async function showResults(planId) {
  await loadLeads(planId);
  const result = await finishedResult(planId);
  if (planId !== resultsPlanId) return;
  const delivery = result && result.delivery;
  const line = await deliveryLine(planId, delivery);
  $("results-message").textContent = line;
  // Fewer than asked, or some from outside the place: marked, so it is not read as a plain success.
  $("results-message").classList.toggle("short", Boolean(delivery && delivery.note) || / \d+ nearby\.$/.test(line));
  $("download-csv").href = `/api/plan/${planId}/leads?format=csv`;
  $("download").hidden = leads.length === 0;
  $("results-section").hidden = false;
  loadOutreach(planId);
}

// The result is stored a moment after the progress says the run finished: wait for it (a few seconds at most).
async function finishedResult(planId) {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      return await api("GET", `/api/plan/${planId}/result`);
    } catch (error) {
      if (error.status !== 409) return null;
    }
    await sleep(250);
  }
  return null;
}

// What was delivered against what was asked, in the words of the session's summary (the CLI says the same).
async function deliveryLine(planId, delivery) {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const messages = await api("GET", "/api/conversations/current/messages");
    const summary = messages.find((m) => m.planId === planId);  // the plan's own summary comes first
    const line = summary && summary.text.split("\n").find((l) => l.startsWith("Saved "));
    if (line) return line;
    if (summary || !delivery) break;
    await sleep(250);
  }
  if (delivery && delivery.note) return `Saved ${delivery.note.replace(/\.$/, "")}.`;
  if (delivery) return `Saved all ${plural(delivery.delivered, "lead")} asked for.`;
  return leads.length ? `${plural(leads.length, "lead")} saved.` : "No leads were saved.";
}

async function loadLeads(planId) {
  leads = await api("GET", `/api/plan/${planId}/leads`);
  renderLeads();
}

function leadValue(lead, key) {
  if (key === "email") return lead.emails.length ? lead.emails[0].value : "";
  if (key === "match") return lead.match ? lead.match.area : "";
  if (key === "source") return SOURCE_NAMES[lead.source] || lead.source;
  return lead[key] || "";
}

function renderLeads() {
  const rows = [...leads];
  if (sortKey) rows.sort((a, b) => String(leadValue(a, sortKey)).localeCompare(String(leadValue(b, sortKey))));
  $("leads-table").tBodies[0].replaceChildren(...rows.map((lead, index) => {
    const row = el("tr");
    const email = lead.emails.length ? `${lead.emails[0].value} (${lead.emails[0].verification})` : "";
    row.append(cell("Name", lead.name), cell("Type", lead.category || ""), cell("Address", lead.address || ""));
    row.append(cell("Postcode", lead.postcode || ""), cell("Phone", lead.phone || ""), cell("Email", email));
    row.append(cell("Website", lead.website || ""), matchCell(lead, index), sourceCell(lead));
    return row;
  }));
  // Columns no lead has a value for (no phone numbers in the open data, no emails before enrichment) are left out.
  const table = $("leads-table");
  [...table.tHead.rows[0].cells].forEach((th, column) => {
    const key = th.querySelector("button").dataset.sort;
    const empty = OPTIONAL_COLUMNS.has(key) && !leads.some((lead) => leadValue(lead, key));
    th.hidden = empty;
    for (const row of table.tBodies[0].rows) row.cells[column].hidden = empty;
  });
}

const OPTIONAL_COLUMNS = new Set(["phone", "email", "website", "match"]);

// The match badge ("inside" / "nearby"): its reasons show on hover and on keyboard focus (and stay open
// when it is pressed, for touch); a screen reader hears them as the badge's description. Escape hides them.
function matchCell(lead, index) {
  const td = cell("Match");
  const match = lead.match;
  if (!match) return td;
  const wrap = el("span", null, "match");
  const badge = el("button", match.area, `badge match-${match.area}`);
  badge.type = "button";
  wrap.append(badge);
  if (match.reasons && match.reasons.length) {
    const tip = el("span", null, "tip");
    tip.id = `match-reasons-${index}`;
    tip.setAttribute("role", "tooltip");
    tip.append(...match.reasons.map((reason) => el("span", reason, "reason")));
    badge.setAttribute("aria-describedby", tip.id);
    badge.setAttribute("aria-expanded", "false");
    badge.addEventListener("click", () => {
      const open = wrap.classList.toggle("open");
      badge.setAttribute("aria-expanded", String(open));
      wrap.classList.remove("dismissed");
    });
    badge.addEventListener("keydown", (event) => {
      if (event.key === "Escape") wrap.classList.add("dismissed");
    });
    badge.addEventListener("blur", () => wrap.classList.remove("dismissed"));
    wrap.addEventListener("mouseleave", () => wrap.classList.remove("dismissed"));
    wrap.append(tip);
  }
  td.append(wrap);
  return td;
}

// The source, linked to its public record where the source has one (FSA, OpenStreetMap, Google Maps).
function sourceCell(lead) {
  const td = cell("Source");
  const name = SOURCE_NAMES[lead.source] || lead.source;
  const href = sourceLink(lead);
  if (!href) {
    td.textContent = name;
    return td;
  }
  const link = el("a", name);
  link.href = href;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.setAttribute("aria-label", `${name} record of ${lead.name} (opens in a new tab)`);
  td.append(link);
  return td;
}

function sourceLink(lead) {
  const id = String(lead.sourceId || "").split(":").slice(1).join(":");
  if (lead.source === "fsa_fhrs" && /^\d+$/.test(id)) return `https://ratings.food.gov.uk/business/${id}`;
  if (lead.source === "osm" && /^(node|way|relation)\/\d+$/.test(id)) return `https://www.openstreetmap.org/${id}`;
  if (lead.source === "google_places") {
    if (/^https:\/\//.test(lead.googleMapsUri || "")) return lead.googleMapsUri;
    if (/^[\w-]+$/.test(id)) {
      return `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(lead.name)}&query_place_id=${id}`;
    }
  }
  return null;  // NHS, Open Brewery DB, Open Pubs: no public page per record
}

document.querySelectorAll("th button").forEach((button) => {
  button.addEventListener("click", () => { sortKey = button.dataset.sort; renderLeads(); });
});

// 5. Outreach: the drafts of a plan that said to email its leads, sending them, and stopping for a reply
function hideOutreach() {
  clearTimeout(sendWatch);
  sendWatch = null;
  outreachListId = null;
  $("send-outreach").disabled = false;
  $("outreach-section").hidden = true;
}

async function loadOutreach(planId) {
  let result;
  try {
    result = await api("GET", `/api/plan/${planId}/result`);
  } catch (error) {
    return;
  }
  if (planId !== resultsPlanId) return;
  const step = result.stepResults.find((s) => s.data && s.data.sequenceId != null && s.data.listId != null);
  if (!step) return hideOutreach();  // not asked for, or skipped: the progress says why
  if (outreachListId !== step.data.listId) {
    hideOutreach();
    outreachListId = step.data.listId;
    $("outreach-status").textContent = "";
    showProblems([], "outreach-problems");
  }
  await refreshOutreach();
}

async function refreshOutreach() {
  const listId = outreachListId;
  if (listId === null) return null;
  let sequence;
  try {
    sequence = await api("GET", `/api/lists/${listId}/outreach`);
  } catch (error) {
    showProblems([error.message], "outreach-problems");
    return null;
  }
  if (listId !== outreachListId) return null;
  renderOutreach(sequence);
  $("outreach-section").hidden = false;
  return sequence;
}

const LEAD_STATUS = { opted_out: "opted out", skipped: "not drafted" };

function renderOutreach(sequence) {
  const drafted = new Set(sequence.messages.map((m) => m.leadKey));
  const notDrafted = sequence.leads.filter((lead) => !drafted.has(lead.leadKey)).length;
  $("outreach-summary").textContent = `${plural(drafted.size, "lead")} drafted · ${notDrafted} not drafted`;
  const counts = {};
  for (const m of sequence.messages) counts[m.status] = (counts[m.status] || 0) + 1;
  const tally = Object.entries(counts).map(([status, n]) => `${n} ${status}`).join(" · ");
  const sender = sequence.sender;
  const from = [sender.name, sender.company].filter(Boolean).join(", ") + (sender.email ? ` <${sender.email}>` : "");
  $("outreach-detail").textContent =
    `${plural(sequence.messages.length, "message")}${tally ? `: ${tally}` : ""}` + (from ? ` · from ${from}` : "");

  $("outreach-leads").tBodies[0].replaceChildren(...sequence.leads.map((lead) => {
    const row = el("tr", null, `lead-${lead.status}`);
    row.append(cell("Business", lead.leadName), cell("Email", lead.email || ""));
    row.append(cell("Status", LEAD_STATUS[lead.status] || lead.status));
    row.append(cell("Why", lead.reason && lead.reason !== lead.status ? lead.reason : ""));
    const action = cell("Action");
    if (lead.status === "active" && lead.email) {
      const button = el("button", "Mark replied", "secondary small");
      button.type = "button";
      button.setAttribute("aria-label", `Mark replied: ${lead.leadName}`);
      button.addEventListener("click", () => markReplied(lead, button));
      action.append(button);
    }
    row.append(action);
    return row;
  }));

  const names = Object.fromEntries(sequence.leads.map((lead) => [lead.leadKey, lead.leadName]));
  const leads = Object.fromEntries(sequence.leads.map((lead) => [lead.leadKey, lead]));
  const messages = [...sequence.messages].sort((a, b) =>
    (names[a.leadKey] || a.leadName).localeCompare(names[b.leadKey] || b.leadName) || a.stepIndex - b.stepIndex);
  $("outreach-messages").tBodies[0].replaceChildren(...messages.map((message) => {
    const row = el("tr", null, `message-${message.status}`);
    row.append(cell("Lead", `${message.leadName} <${message.email}>`));
    row.append(cell("Step", `${message.stepKey} (day ${message.day})`));
    const subject = cell("Subject");
    const body = el("details");
    body.append(el("summary", message.subject), el("pre", message.bodyText));
    subject.append(body);
    row.append(subject);
    const status = cell("Status");
    status.append(el("span", message.status, "badge"));
    if (message.attempts > 1) status.append(` (attempt ${message.attempts})`);
    if (message.sentAt) status.append(" ", when(message.sentAt));
    // Why a message was stopped is its lead's status (replied, opted out…); "reply" is only ever the server's.
    const lead = leads[message.leadKey];
    if (message.status === "stopped" && lead) status.append(` (${LEAD_STATUS[lead.status] || lead.status})`);
    row.append(status, cell("Server reply", message.reply || ""));
    return row;
  }));
}

async function markReplied(lead, button) {
  const listId = outreachListId;
  button.disabled = true;
  try {
    const done = await api("POST", `/api/lists/${listId}/outreach/replied`, { email: lead.email });
    showProblems([], "outreach-problems");
    $("outreach-status").textContent =
      `${lead.leadName} replied: ${plural(done.stopped, "message")} to them will not be sent.`;
  } catch (error) {
    showProblems([error.message], "outreach-problems");
    button.disabled = false;
  }
  await refreshOutreach();
}

$("refresh-outreach").addEventListener("click", () => refreshOutreach());

$("send-outreach").addEventListener("click", async () => {
  const listId = outreachListId;
  const button = $("send-outreach");
  button.disabled = true;
  showProblems([], "outreach-problems");
  const before = await refreshOutreach();
  let started;
  try {
    started = await api("POST", `/api/lists/${listId}/outreach/send`, {});
  } catch (error) {
    showProblems([error.message], "outreach-problems");
    $("outreach-status").textContent = "";
    button.disabled = false;
    return;
  }
  if (started.due === 0) {
    $("outreach-status").textContent = "Nothing is due to send now.";
    button.disabled = false;
    return;
  }
  $("outreach-status").textContent = `Sending ${plural(started.due, "due message")}…`;
  // Sending runs on the server, a gap apart (WYSHBONE_OUTREACH_GAP_SECONDS): follow it until it says it is done.
  const state = (m) => `${m.status}/${m.attempts}`;
  const was = Object.fromEntries((before ? before.messages : []).map((m) => [m.id, state(m)]));
  clearTimeout(sendWatch);
  const watch = async () => {
    const sequence = await refreshOutreach();
    if (listId !== outreachListId) return;
    const done = sequence ? sequence.messages.filter((m) => m.status !== "sending" && state(m) !== was[m.id]) : [];
    const sent = done.filter((m) => m.status === "sent").length;
    const failed = done.filter((m) => m.status === "failed" || m.status === "bounced" || m.status === "rejected").length;
    const tally = `${sent} of ${started.due} sent` + (failed ? ` · ${failed} failed (see the server's reply)` : "");
    if (sequence && !sequence.sending) {
      const held = started.due - done.length;
      $("outreach-status").textContent =
        `Done: ${tally}.` + (held > 0 ? ` ${plural(held, "message")} held back (daily cap, or stopped).` : "");
      button.disabled = false;
      sendWatch = null;
    } else {
      $("outreach-status").textContent = `Sending… ${tally}`;
      sendWatch = setTimeout(watch, 1000);
    }
  };
  sendWatch = setTimeout(watch, 1000);
});

// 6. Monitors: this session's watches for new businesses
async function loadMonitors() {
  try {
    monitors = await api("GET", "/api/monitors");
  } catch (error) {
    showProblems([error.message], "monitors-problems");
    return;
  }
  renderMonitors();
}

function renderMonitors() {
  const section = $("monitors-section");
  if (!monitors.length && section.hidden) return;  // nothing to show yet
  section.hidden = false;
  $("monitors-empty").hidden = monitors.length > 0;
  $("monitors").replaceChildren(...monitors.map((monitor) => {
    const item = el("li", null, `monitor-${monitor.status}`);
    item.append(el("strong", monitor.name));
    const cadence = monitor.cadence.charAt(0).toUpperCase() + monitor.cadence.slice(1);
    const facts = el("span", `${cadence} · ${monitor.status}`, "detail");
    if (monitor.status === "active") facts.append(...nextCheck(monitor));
    facts.append(` · knows ${plural(monitor.known, "business", "businesses")}`);
    item.append(facts);
    const run = monitor.lastRun;
    if (run) {
      const last = el("span", `${RUN_WORDS[run.kind] || "Last check"} `, "detail");
      last.append(when(run.finishedAt), `: ${run.message || run.error || run.status}`);
      if (run.status === "failed" && run.error && !(run.message || "").includes(run.error)) last.append(` (${run.error})`);
      item.append(last);
      if (run.newLeads.length) {
        const fresh = el("ul", null, "new-leads");
        fresh.setAttribute("aria-label", "New businesses");
        fresh.replaceChildren(...run.newLeads.map((name) => el("li", name)));
        item.append(fresh);
      }
    }
    const buttons = el("div", null, "buttons");
    const toggle = monitor.status === "paused" ? "Resume" : "Pause";
    buttons.append(
      monitorButton(monitor, toggle, "secondary", () => monitorAction(monitor, toggle.toLowerCase())),
      monitorButton(monitor, "Run now", "", () => runMonitor(monitor)),
      monitorButton(monitor, "Delete", "secondary", () => deleteMonitor(monitor)),
    );
    item.append(buttons);
    return item;
  }));
}

// What each kind of run is called where the monitor's last one shows.
const RUN_WORDS = { setup: "Set up", baseline: "First check", scheduled: "Last check", manual: "Last check" };

// " · next check <when>", or that it is due now (the first check, right after set-up, is due at once).
function nextCheck(monitor) {
  const which = monitor.lastRun && monitor.lastRun.kind === "setup" ? "first" : "next";
  if (new Date(monitor.nextRunAt) <= new Date()) return [` · ${which} check due now`];
  return [` · ${which} check `, when(monitor.nextRunAt)];
}

function monitorButton(monitor, text, className, action) {
  const button = el("button", text, className);
  button.type = "button";
  button.setAttribute("aria-label", `${text}: ${monitor.name}`);
  button.addEventListener("click", async () => {
    button.disabled = true;
    showProblems([], "monitors-problems");
    try {
      await action();
    } catch (error) {
      showProblems([error.message], "monitors-problems");
    }
    button.disabled = false;
    await loadMonitors();
  });
  return button;
}

async function monitorAction(monitor, action) {
  const updated = await api("POST", `/api/monitors/${monitor.id}/${action}`, {});
  $("monitors-status").textContent = `${updated.name} is ${updated.status}.`;
}

// A check is a plan of its own: its steps show in the progress panel as it runs, as any plan's do.
async function runMonitor(monitor) {
  $("monitors-status").textContent = `Checking ${monitor.name}…`;
  const before = await latestPlanId();
  let pending = true;
  const request = api("POST", `/api/monitors/${monitor.id}/run`, {});
  request.finally(() => { pending = false; }).catch(() => {});
  watchForCheck(before, () => pending, monitor);
  let run;
  try {
    run = await request;
  } catch (error) {
    $("monitors-status").textContent = "";
    throw error;
  }
  if (run.planId) showCheck(run.planId, monitor.planId);  // it may have finished before the page saw it start
  $("monitors-status").textContent = run.message || run.error || `Check ${run.status}.`;
  if (run.new > 0 && monitor.planId === resultsPlanId && !$("results-section").hidden) loadLeads(resultsPlanId);
  // New businesses with an address were drafted into the list's sequence: show them.
  if (run.drafted > 0 && monitor.listId === outreachListId) refreshOutreach();
}

async function latestPlanId() {
  try {
    return (await api("GET", "/api/plan/progress")).planId || null;
  } catch (error) {
    return null;
  }
}

// While the run request is pending, the session's newest plan is the check once it has been stored: follow it.
async function watchForCheck(before, pending, monitor) {
  while (pending()) {
    const latest = await latestPlanId();
    if (latest && latest !== before) return showCheck(latest, monitor.planId);
    await sleep(200);
  }
}

function showCheck(planId, originPlanId) {
  checkOrigins.set(planId, originPlanId);
  if (planId === currentPlanId) return;
  currentPlanId = planId;
  $("plan-section").hidden = true;
  follow(planId);
  loadHistory();
}

// A check opened from the history or after a reload: its monitor's plan's leads show below its steps.
async function noteCheck(plan) {
  if (plan.monitorId == null || checkOrigins.has(plan.planId)) return;
  const monitor = monitors.find((m) => m.id === plan.monitorId);
  if (monitor) checkOrigins.set(plan.planId, monitor.planId);
}

async function deleteMonitor(monitor) {
  if (!confirm(`Delete the monitor "${monitor.name}"? The leads it found stay in their list.`)) return;
  await api("DELETE", `/api/monitors/${monitor.id}`);
  $("monitors-status").textContent = `${monitor.name} deleted.`;
}

// 7. History
async function loadHistory() {
  const plans = await api("GET", "/api/plans");
  $("history").replaceChildren(...plans.map((plan) => {
    const item = el("li");
    const link = el("a", `${plan.goal} — ${PLAN_WORDS[plan.status] || plan.status}`);
    link.href = `#plan-${plan.planId}`;
    link.addEventListener("click", (event) => { event.preventDefault(); reopen(plan.planId); });
    item.append(link);
    return item;
  }));
}

async function reopen(planId) {
  const plan = await api("GET", `/api/plan/${planId}`);
  await noteCheck(plan);
  currentPlanId = planId;
  if (plan.status === "pending_approval") {
    showPlan(plan);
  } else {
    $("plan-section").hidden = true;
    follow(planId);
  }
}

// A reload mid-run shows the same progress: the state is on the server.
(async function resume() {
  loadHistory();
  const loaded = loadMonitors();
  const latest = await api("GET", "/api/plan/progress");
  if (latest.status && latest.status !== "idle" && latest.planId) {
    const plan = await api("GET", `/api/plan/${latest.planId}`);
    await loaded;
    await noteCheck(plan);
    currentPlanId = latest.planId;
    if (latest.status === "pending") {
      showPlan(plan);
    } else {
      follow(latest.planId);
    }
  }
})();
