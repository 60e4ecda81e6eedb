// The counter console: actions by fetch (with the session's CSRF token), a fresh view on every server-sent
// event, the card data read only while the visit is served and wiped from the page as soon as it is not.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var counter = root.dataset.counter;
  var csrf = root.dataset.csrf;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var el = function (id) { return document.getElementById(id); };
  var busy = false;
  var cardFor = null;
  var ENABLED = {
    idle: ["call-next"],
    called: ["recall", "start", "hold", "no-show"],
    serving: ["finish", "hold"]
  };

  function text(node, value) { node.textContent = value == null ? "" : String(value); }

  function clearCard() {
    cardFor = null;
    el("card").replaceChildren();
    el("card-section").hidden = true;
  }

  function showCard(visitId) {
    if (cardFor === visitId) { return; }
    cardFor = visitId;
    fetch("/api/v1/counters/" + encodeURIComponent(counter) + "/card", {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (read) {
        if (!read || cardFor !== visitId || read.ticket_id !== visitId) { return; }
        var list = el("card");
        list.replaceChildren();
        [["card_name", read.card.name], ["card_address", read.card.address],
         ["card_birth_date", read.card.birth_date], ["card_sex", S["sex_" + read.card.sex] || read.card.sex]].forEach(function (row) {
          var dt = document.createElement("dt"); text(dt, S[row[0]]);
          var dd = document.createElement("dd"); text(dd, row[1]);
          list.append(dt, dd);
        });
        el("card-section").hidden = false;
      })
      .catch(function () {});
  }

  function render(state) {
    var visit = state.visit;
    var status = visit ? visit.status : "idle";
    text(el("counter-state"), S["state_" + state.counter.state] || state.counter.state);
    text(el("number"), visit ? visit.display_number : "—");
    root.dataset.status = status;
    text(el("status"), visit ? (S["status_" + status] || status) + " · " + visit.band : S.status_idle);
    text(el("waiting"), S.waiting_count.replace("{n}", state.waiting));
    var flags = el("flags");
    flags.replaceChildren();
    if (visit) {
      var lang = document.createElement("span");
      lang.className = "chip lang"; text(lang, visit.language_name); lang.lang = visit.language;
      flags.append(lang);
      visit.priority.forEach(function (p) {
        var chip = document.createElement("span");
        chip.className = "chip priority"; text(chip, S["priority_" + p] || p);
        flags.append(chip);
      });
    }
    var plan = el("plan");
    plan.replaceChildren();
    (visit ? visit.plan : []).forEach(function (step) {
      var li = document.createElement("li");
      var mark = document.createElement("span");
      mark.className = "state " + step.state; text(mark, S["step_" + step.state] || step.state);
      li.append(mark, document.createTextNode(" " + step.label));
      if (step.state === "active") { li.setAttribute("aria-current", "step"); }
      plan.append(li);
    });
    var allowed = ENABLED[status] || [];
    root.querySelectorAll("form[data-action]").forEach(function (form) {
      form.querySelector("button").disabled = busy || allowed.indexOf(form.dataset.action) < 0;
    });
    el("outcome").disabled = status !== "serving";
    if (visit && visit.has_card) { showCard(visit.id); } else { clearCard(); }
  }

  function refresh() {
    return fetch("/staff/counter/state", {credentials: "same-origin", cache: "no-store",
                                           headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/staff/login"); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (state) { if (state) { render(state); } })
      .catch(function () {});
  }

  function act(form) {
    if (busy) { return; }
    var button = form.querySelector("button");
    if (button.disabled) { return; }
    busy = true;
    text(el("message"), "");
    root.querySelectorAll("form[data-action] button").forEach(function (b) { b.disabled = true; });
    fetch(form.action, {method: "POST", credentials: "same-origin", body: new FormData(form),
                        headers: {"X-CSRF-Token": csrf, "Accept": "application/json"}})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (!r.ok) { text(el("message"), body.detail || body.title || S.error_generic); }
          else if (form.dataset.action === "call-next" && !body.ticket) { text(el("message"), S.nobody_waiting); }
        });
      })
      .catch(function () { text(el("message"), S.error_generic); })
      .then(function () { busy = false; return refresh(); });
  }

  root.querySelectorAll("form[data-action]").forEach(function (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); act(form); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) { return; }
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    var key = event.key.toUpperCase();
    var form = root.querySelector('form[data-key="' + key + '"]');
    if (form) { event.preventDefault(); act(form); }
  });

  function listen() {
    var source = new EventSource("/staff/events");
    source.addEventListener("hello", function () { text(el("live"), S.live_on); refresh(); });
    source.addEventListener("change", function (event) {
      root.dataset.seq = JSON.parse(event.data).seq;
      refresh();
    });
    source.addEventListener("resync", refresh);
    source.addEventListener("signed_out", function () { source.close(); window.location.assign("/staff/login"); });
    source.onerror = function () { text(el("live"), S.live_off); };
  }

  refresh();
  listen();
  window.addEventListener("pagehide", clearCard);
})();
