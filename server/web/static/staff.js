// The counter console: actions by fetch (with the session's CSRF token), a fresh view on every server-sent
// event, the card data read only while the visit is served and wiped from the page as soon as it is not.
// What both staff pages share: DOM helpers, reading a page's view, and following the server-sent events.
var StaffPage = (function () {
  "use strict";
  function el(id) { return document.getElementById(id); }
  function text(node, value) { node.textContent = value == null ? "" : String(value); }

  // The page's view as JSON; a session that ended goes back to the sign-in page.
  function fetchState(url, render) {
    return fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/staff/login"); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (state) { if (state) { render(state); } })
      .catch(function () {});
  }

  // Every committed change (with its seq), a reconnect or a resync makes the page read its view again.
  function follow(strings, refresh, onChange) {
    var source = new EventSource("/staff/events");
    source.addEventListener("hello", function () { text(el("live"), strings.live_on); refresh(); });
    source.addEventListener("change", function (event) { if (onChange) { onChange(event); } refresh(); });
    source.addEventListener("resync", refresh);
    source.addEventListener("signed_out", function () { source.close(); window.location.assign("/staff/login"); });
    source.onerror = function () { text(el("live"), strings.live_off); };
    return source;
  }

  // A staff action: the form POSTed with the session's CSRF token; resolves to {ok, answer}, the answer
  // being the JSON body (or {} when there is none).
  function send(url, body, csrf) {
    return fetch(url, {method: "POST", credentials: "same-origin", body: body,
                       headers: {"X-CSRF-Token": csrf, "Accept": "application/json"}})
      .then(function (r) {
        return r.json().catch(function () { return {}; })
          .then(function (answer) { return {ok: r.ok, answer: answer}; });
      });
  }

  // A refusal's message in the page's language, else its detail, else ``fallback``.
  function problemText(answer, fallback) {
    return (answer.messages && answer.messages[document.documentElement.lang]) || answer.detail || fallback;
  }

  // A table cell with its text (and class) added to the row.
  function cell(row, value, cls) {
    var td = document.createElement("td"); text(td, value); if (cls) { td.className = cls; } row.append(td); return td;
  }

  return {el: el, text: text, cell: cell, fetchState: fetchState, follow: follow, send: send,
          problemText: problemText};
})();

(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var counter = root.dataset.counter;
  var csrf = root.dataset.csrf;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var el = StaffPage.el;
  var text = StaffPage.text;
  var busy = false;
  var cardFor = null;
  var ENABLED = {
    idle: ["call-next"],
    called: ["recall", "start", "hold", "no-show"],
    serving: ["finish", "hold"]
  };

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
    var open = state.counter.state === "open";
    var allowed = (ENABLED[status] || []).filter(function (a) { return open || a !== "call-next"; });
    allowed.push(open ? "pause" : "resume");
    root.dataset.counterState = state.counter.state;
    root.querySelectorAll("form[data-action]").forEach(function (form) {
      form.querySelector("button").disabled = busy || allowed.indexOf(form.dataset.action) < 0;
    });
    renderQueue(state.queue, !visit && open);
    ["outcome", "next-procedure", "to-counter"].forEach(function (id) { el(id).disabled = status !== "serving"; });
    if (status !== "serving") { el("next-procedure").value = ""; el("to-counter").value = ""; }
    if (visit && visit.has_card) { showCard(visit.id); } else { clearCard(); }
    el("form-section").hidden = !(visit && visit.has_card && visit.form);  // the pre-filled 住民異動届
  }

  function renderQueue(queue, canCall) {
    var list = el("queue");
    list.replaceChildren();
    if (!queue.length) {
      var none = document.createElement("li"); none.className = "muted"; text(none, S.queue_empty);
      list.append(none);
    }
    queue.forEach(function (t) {
      var li = document.createElement("li");
      var number = document.createElement("strong"); text(number, t.display_number);
      var info = document.createElement("span");
      text(info, " " + (t.status === "held" ? S.status_held + " · " : "") + (t.sent_here ? S.sent_here + " · " : "") +
           S.waited_min.replace("{n}", t.waited_min) +
           t.priority.map(function (p) { return " · " + (S["priority_" + p] || p); }).join(""));
      var button = document.createElement("button");
      button.type = "button"; button.className = "call"; button.disabled = busy || !canCall;
      button.dataset.ticket = t.id;
      text(button, S.call_this.replace("{number}", t.display_number));
      button.addEventListener("click", function () { callOutOfOrder(t.id); });
      li.append(number, info, button);
      list.append(li);
    });
  }

  function callOutOfOrder(ticketId) {
    var reason = el("reason").value.trim();
    if (!reason) { text(el("message"), S.reason_needed); el("reason").focus(); return; }
    var body = new FormData();
    body.append("ticket_id", ticketId);
    body.append("reason", reason);
    post(el("queue").dataset.url, body, "call").then(function (ok) { if (ok) { el("reason").value = ""; } });
  }

  function refresh() { return StaffPage.fetchState("/staff/counter/state", render); }

  function post(url, body, action) {
    if (busy) { return Promise.resolve(false); }
    busy = true;
    var ok = false;
    text(el("message"), "");
    root.querySelectorAll("button").forEach(function (b) { if (!b.closest(".bar")) { b.disabled = true; } });
    return StaffPage.send(url, body, csrf)
      .then(function (sent) {
        ok = sent.ok;
        if (!sent.ok) { text(el("message"), StaffPage.problemText(sent.answer, S.error_generic)); }
        else if (action === "call-next" && !sent.answer.ticket) { text(el("message"), S.nobody_waiting); }
      })
      .catch(function () { text(el("message"), S.error_generic); })
      .then(function () { busy = false; return refresh(); })
      .then(function () { return ok; });
  }

  function act(form) {
    if (busy || form.querySelector("button").disabled) { return; }
    post(form.action, new FormData(form), form.dataset.action);
  }

  root.querySelectorAll("form[data-action]").forEach(function (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); act(form); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) { return; }
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    var key = event.key.toUpperCase();
    var forms = Array.prototype.filter.call(root.querySelectorAll('form[data-key="' + key + '"]'),
      function (f) { return !f.querySelector("button").disabled; });
    if (forms.length) { event.preventDefault(); act(forms[0]); }
  });

  refresh();
  StaffPage.follow(S, refresh, function (event) { root.dataset.seq = JSON.parse(event.data).seq; });
  window.addEventListener("pagehide", clearCard);
})();

// The floor-guide board: bands and counters, read again on every server-sent event; open/pause/close.
(function () {
  "use strict";
  var root = document.getElementById("board");
  if (!root) { return; }
  var csrf = root.dataset.csrf;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var el = StaffPage.el;
  var text = StaffPage.text;
  var cell = StaffPage.cell;

  // Alerts (a kiosk's call for staff, a printer that cannot print, a silent device) are drawn at once,
  // even while a guide is choosing in a list below.
  function renderAlerts(alerts) {
    var list = el("alerts");
    list.replaceChildren();
    el("alerts-section").classList.toggle("active", alerts.length > 0);
    if (!alerts.length) {
      var none = document.createElement("li"); none.className = "muted"; text(none, S.no_alerts); list.append(none);
    }
    alerts.forEach(function (a) {
      var li = document.createElement("li");
      li.dataset.device = a.device; li.dataset.alert = a.alert;
      var what = document.createElement("strong");
      var device = S.alert_device.replace("{device}", a.device).replace("{kind}", S["kind_" + a.kind] || a.kind);
      text(what, S["alert_" + a.alert].replace("{device}", device).replace("{at}", a.at)
        .replace("{state}", S["printer_" + a.detail] || a.detail || ""));
      li.append(what);
      if (a.alert === "call_staff") {
        var b = document.createElement("button"); b.type = "button"; b.dataset.action = "acknowledge";
        text(b, S.alert_acknowledge);
        b.setAttribute("aria-label", a.device + " " + S.alert_acknowledge);
        b.addEventListener("click", function () {
          post("/staff/guide/devices/" + encodeURIComponent(a.device) + "/acknowledge", new FormData());
        });
        li.append(" ", b);
      }
      list.append(li);
    });
  }

  // Move a counter to single procedures: the chosen ones become its skills.
  var openChoosers = {};
  function skillsChooser(c, choices) {
    var box = document.createElement("details"); box.className = "skills-chooser";
    var summary = document.createElement("summary"); text(summary, S.skills_choose);
    box.append(summary);
    // the list is drawn only while open: thirteen lists of every procedure would slow each redraw
    function fill() {
      if (box.querySelector("form")) { return; }
      var form = document.createElement("form"); form.className = "skill-choice";
      choices.forEach(function (p) {
        var label = document.createElement("label");
        var input = document.createElement("input");
        input.type = "checkbox"; input.name = "procedure"; input.value = p.id;
        input.checked = c.skill_ids.indexOf(p.id) >= 0;
        label.append(input, " " + p.label);
        form.append(label);
      });
      var go = document.createElement("button"); go.type = "submit"; text(go, S.skills_move);
      go.setAttribute("aria-label", c.label + " " + S.skills_move);
      form.append(go);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var body = new FormData(form);
        if (!body.getAll("procedure").length) { text(el("message"), S.skills_none); return; }
        act(c.id, "skills", body);
      });
      box.append(form);
    }
    box.addEventListener("toggle", function () {
      openChoosers[c.id] = box.open;  // stays open across redraws
      if (box.open) { fill(); }
    });
    if (openChoosers[c.id]) { fill(); box.open = true; }
    return box;
  }

  var pending = null;
  var chosenBands = {};
  function render(state) {
    renderAlerts(state.alerts);
    var focused = document.activeElement;
    if (focused && (focused.tagName === "SELECT" || focused.tagName === "INPUT") && root.contains(focused)
        && !el("manual").contains(focused)) {
      pending = state;  // a guide is choosing a band: redraw once they leave the list
      return;
    }
    pending = null;
    root.dataset.seq = state.seq;
    var bands = el("bands");
    bands.replaceChildren();
    state.bands.forEach(function (b) {
      var tr = document.createElement("tr");
      tr.dataset.band = b.id;
      var th = document.createElement("th"); th.scope = "row"; text(th, b.label); tr.append(th);
      cell(tr, b.waiting, "waiting");
      cell(tr, S.band_minutes.replace("{n}", b.oldest), b.oldest > b.target ? "over" : "");
      cell(tr, S.band_minutes.replace("{n}", b.estimate), b.estimate > b.target ? "over" : "");
      cell(tr, S.band_minutes.replace("{n}", Math.round(b.target)));
      bands.append(tr);
    });
    renderWaiting(state);
    renderSuggestions(state.suggestions);
    var list = el("counters");
    list.replaceChildren();
    state.counters.forEach(function (c) {
      var li = document.createElement("li");
      li.dataset.counter = c.id; li.dataset.state = c.state;
      var head = document.createElement("p"); head.className = "head";
      var name = document.createElement("strong"); text(name, c.label);
      var chip = document.createElement("span"); chip.className = "chip state-" + c.state;
      text(chip, S["state_" + c.state] || c.state);
      head.append(name, " ", chip);
      var who = document.createElement("p"); who.className = "serving";
      text(who, c.serving ? (S["status_" + c.status] || c.status) + " " + c.serving + " · " +
           S.counter_serving_for.replace("{n}", c.minutes) : S.counter_free);
      var skills = document.createElement("p"); skills.className = "muted skills"; text(skills, c.skills.join(" · "));
      var actions = document.createElement("p"); actions.className = "buttons";
      [["open", "open"], ["pause", "paused"], ["close", "closed"]].forEach(function (a) {
        var b = document.createElement("button");
        b.type = "button"; b.dataset.action = a[0]; text(b, S["act_" + a[0]]);
        b.disabled = c.state === a[1];
        b.setAttribute("aria-label", c.label + " " + S["act_" + a[0]]);
        b.addEventListener("click", function () { act(c.id, a[0]); });
        actions.append(b);
      });
      var move = document.createElement("p"); move.className = "move";
      var select = document.createElement("select");
      select.id = "band-" + c.id;
      select.setAttribute("aria-label", c.label + " " + S.move_to);
      // a band chosen but not yet moved to survives redraws (a tablet's list loses the focus once chosen)
      var wanted = chosenBands.hasOwnProperty(c.id) ? chosenBands[c.id] : (c.band || "");
      var mixed = document.createElement("option"); mixed.value = ""; text(mixed, "—"); mixed.selected = !wanted;
      select.append(mixed);
      state.band_choices.forEach(function (b) {
        var option = document.createElement("option"); option.value = b.id; text(option, b.label);
        option.selected = b.id === wanted;
        select.append(option);
      });
      select.addEventListener("change", function () { chosenBands[c.id] = select.value; });
      var go = document.createElement("button");
      go.type = "button"; go.className = "move"; text(go, S.move);
      go.addEventListener("click", function () {
        var body = new FormData(); body.append("band", select.value);
        delete chosenBands[c.id];
        act(c.id, "band", body);
      });
      move.append(select, go);
      li.append(head, who, skills, actions, move, skillsChooser(c, state.procedure_choices));
      list.append(li);
    });
  }

  var dismissed = {};
  function renderSuggestions(suggestions) {
    var list = el("suggestions");
    list.replaceChildren();
    var shown = suggestions.filter(function (s) { return !dismissed[s.id]; });
    if (!shown.length) {
      var none = document.createElement("li"); none.className = "muted"; text(none, S.no_suggestions);
      list.append(none);
    }
    shown.forEach(function (s) {
      var li = document.createElement("li");
      li.dataset.suggestion = s.id;
      var what = document.createElement("p"); what.className = "what";
      text(what, S.suggestion_move.replace("{counter}", s.counter).replace("{from}", s.from_band)
                                  .replace("{to}", s.to_band));
      var effect = document.createElement("p"); effect.className = "muted";
      text(effect, s.effect.map(function (e) {
        return S.suggestion_effect.replace("{band}", e.band).replace("{before}", e.before).replace("{after}", e.after);
      }).join(" · "));
      var buttons = document.createElement("p"); buttons.className = "buttons";
      ["accept", "dismiss"].forEach(function (action) {
        var b = document.createElement("button"); b.type = "button"; b.dataset.action = action;
        text(b, S[action]);
        b.addEventListener("click", function () {
          if (action === "dismiss") { dismissed[s.id] = true; }
          post("/staff/guide/suggestions/" + encodeURIComponent(s.id) + "/" + action, new FormData());
        });
        buttons.append(b);
      });
      li.append(what, effect, buttons);
      list.append(li);
    });
  }

  function renderWaiting(state) {
    var body = el("waiting");
    body.replaceChildren();
    state.waiting.forEach(function (t) {
      var tr = document.createElement("tr");
      tr.dataset.ticket = t.id;
      var th = document.createElement("th"); th.scope = "row"; text(th, t.display_number); tr.append(th);
      cell(tr, t.band);
      cell(tr, S.band_minutes.replace("{n}", t.waited));
      cell(tr, t.language).lang = t.language_code;
      var td = document.createElement("td");
      var form = document.createElement("form"); form.className = "flags";
      state.priorities.forEach(function (p) {
        var label = document.createElement("label");
        var box = document.createElement("input");
        box.type = "checkbox"; box.name = "priority"; box.value = p; box.checked = t.priority.indexOf(p) >= 0;
        label.append(box, " " + (S["priority_" + p] || p));
        form.append(label);
      });
      var save = document.createElement("button"); save.type = "submit"; text(save, S.save);
      save.setAttribute("aria-label", t.display_number + " " + S.save);
      form.append(save);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        post("/staff/guide/tickets/" + encodeURIComponent(t.id) + "/priority", new FormData(form));
      });
      td.append(form); tr.append(td);
      body.append(tr);
    });
  }

  function post(url, body) {
    text(el("message"), "");
    body.append("csrf", csrf);
    return StaffPage.send(url, body, csrf)
      .then(function (sent) {
        if (!sent.ok) { text(el("message"), StaffPage.problemText(sent.answer, S.error_generic)); }
      })
      .catch(function () { text(el("message"), S.error_generic); })
      .then(function () { if (document.activeElement) { document.activeElement.blur(); } return refresh(); });
  }

  function refresh() { return StaffPage.fetchState("/staff/guide/state", render); }

  function act(counter, action, given) {
    text(el("message"), "");
    var body = given || new FormData();
    body.append("csrf", csrf);
    StaffPage.send("/staff/guide/counters/" + encodeURIComponent(counter) + "/" + action, body, csrf)
      .then(function (sent) {
        if (!sent.ok) { text(el("message"), StaffPage.problemText(sent.answer, S.error_generic)); }
      })
      .catch(function () { text(el("message"), S.error_generic); })
      .then(refresh);
  }

  var manual = el("manual");
  function newKey() {
    manual.elements.key.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + String(Math.random()).slice(2, 12);
  }
  newKey();
  manual.addEventListener("submit", function (event) {
    event.preventDefault();
    text(el("manual-result"), "");
    StaffPage.send(manual.action, new FormData(manual), csrf)
      .then(function (sent) {
        if (sent.ok) {
          text(el("manual-result"), S.issued.replace("{number}", sent.answer.display_number));
          manual.querySelectorAll("input[type=checkbox]").forEach(function (b) { b.checked = false; });
          newKey();
        } else {
          text(el("message"), StaffPage.problemText(sent.answer, S.error_generic));
        }
      })
      .catch(function () { text(el("message"), S.error_generic); })
      .then(refresh);
  });

  root.addEventListener("focusout", function () {
    window.setTimeout(function () { if (pending) { render(pending); } }, 0);
  });
  StaffPage.follow(S, refresh).addEventListener("devices", refresh);  // a device's health changed
  refresh();
})();
