// Wyshbone Supervisor page: plain JavaScript over the JSON API and the event stream.
// Everything from the data is written with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const ICONS = { pending: "○", running: "◔", completed: "✔", failed: "✖", skipped: "⤼", cancelled: "■" };
const FINISHED = new Set(["completed", "failed", "cancelled"]);
let parsedGoalText = "";
let currentPlanId = null;
let stream = null;
let pollTimer = null;
let leads = [];
let sortKey = null;

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

function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

function showProblems(problems) {
  const box = $("goal-problems");
  box.replaceChildren(...problems.map((p) => el("p", p)));
  box.hidden = problems.length === 0;
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
  };
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
  $("plan-steps").replaceChildren(...plan.steps.map((step, i) => {
    const item = el("li");
    item.append(el("strong", `${i + 1}. ${step.title}`));
    item.append(el("span", step.description, "detail"));
    const chain = step.providers.length ? `Tries: ${step.providers.join(" → ")}` : "No provider";
    item.append(el("span", chain, "detail"));
    const a = availability[step.id];
    if (a && a.reason) item.append(el("span", a.willRun ? a.reason : `Will be skipped: ${a.reason}`, "detail"));
    return item;
  }));
  const paid = plan.estimate.calls.filter((c) => c.configured);
  const calls = paid.map((c) => `${c.provider}: up to ${c.calls} call(s)`).join("; ");
  $("plan-estimate").textContent =
    `Estimated cost: $${plan.estimate.totalCostUsd.toFixed(2)}` + (calls ? ` (${calls})` : " (no paid calls)");
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
    if (progress.status !== "cancelled") showResults(planId);
    loadHistory();
  }
}

function renderProgress(progress) {
  const steps = progress.steps;
  const current = steps[progress.currentStepIndex];
  const outcome = progress.detail && progress.detail !== progress.status ? ` (${progress.detail})` : "";
  $("progress-summary").textContent = FINISHED.has(progress.status)
    ? `Plan ${progress.status}${outcome}`
    : current
      ? `Step ${current.index + 1} of ${progress.totalSteps} · ${current.title} · ${current.status}`
      : `Plan ${progress.status}`;
  $("progress-steps").replaceChildren(...steps.map((step) => {
    const item = el("li", null, `status-${step.status}`);
    item.append(el("span", `${ICONS[step.status] || ""} ${step.title} — ${step.status}`));
    const bits = [];
    if (step.retryInSeconds != null) bits.push(`retrying in ${step.retryInSeconds} s (attempt ${step.attempts})`);
    else if (step.attempts > 1) bits.push(`attempt ${step.attempts}`);
    if (step.provider) bits.push(`via ${step.provider}`);
    if (bits.length) item.append(el("span", bits.join(" · "), "detail"));
    if (step.errorMessage) item.append(el("span", step.errorMessage, "detail"));
    return item;
  }));
}

// 4. Results
async function showResults(planId) {
  leads = await api("GET", `/api/plan/${planId}/leads`);
  const messages = await api("GET", "/api/conversations/current/messages");
  const summary = messages.filter((m) => m.planId === planId).pop();
  $("results-message").textContent = summary ? summary.text : `${leads.length} leads saved.`;
  $("download-csv").href = `/api/plan/${planId}/leads?format=csv`;
  renderLeads();
  $("results-section").hidden = false;
}

function leadValue(lead, key) {
  if (key === "email") return lead.emails.length ? lead.emails[0].value : "";
  return lead[key] || "";
}

function renderLeads() {
  const rows = [...leads];
  if (sortKey) rows.sort((a, b) => String(leadValue(a, sortKey)).localeCompare(String(leadValue(b, sortKey))));
  $("leads-table").tBodies[0].replaceChildren(...rows.map((lead) => {
    const row = el("tr");
    const email = lead.emails.length ? `${lead.emails[0].value} (${lead.emails[0].verification})` : "";
    for (const value of [lead.name, lead.category, lead.address, lead.postcode, lead.website, email, lead.sourceId]) {
      row.append(el("td", value || ""));
    }
    return row;
  }));
}

document.querySelectorAll("th button").forEach((button) => {
  button.addEventListener("click", () => { sortKey = button.dataset.sort; renderLeads(); });
});

// 5. History
async function loadHistory() {
  const plans = await api("GET", "/api/plans");
  $("history").replaceChildren(...plans.map((plan) => {
    const item = el("li");
    const link = el("a", `${plan.goal} — ${plan.status}`);
    link.href = `#plan-${plan.planId}`;
    link.addEventListener("click", (event) => { event.preventDefault(); reopen(plan.planId); });
    item.append(link);
    return item;
  }));
}

async function reopen(planId) {
  const plan = await api("GET", `/api/plan/${planId}`);
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
  const latest = await api("GET", "/api/plan/progress");
  if (latest.status && latest.status !== "idle" && latest.planId) {
    currentPlanId = latest.planId;
    if (latest.status === "pending") {
      showPlan(await api("GET", `/api/plan/${latest.planId}`));
    } else {
      follow(latest.planId);
    }
  }
})();
