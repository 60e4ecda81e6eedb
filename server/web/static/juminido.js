// The 住民異動届 page: the form filled from the card (read by this script, never rendered by the server),
// completed by staff, confirmed (posted with the CSRF token), printed (window.print on the print sheet)
// and its hand-off downloaded once. Everything is wiped from the page once the visit is not served here.
(function () {
  "use strict";
  var root = document.getElementById("juminido");
  if (!root) { return; }
  var el = StaffPage.el;
  var text = StaffPage.text;
  var S = JSON.parse(el("strings").textContent);
  var counter = root.dataset.counter;
  var csrf = root.dataset.csrf;
  var form = el("jd-form");
  var visitId = null;
  var confirmed = false;

  function fields() { return form.querySelectorAll("input[name], select[name]"); }

  // The print sheet mirrors the form (words for coded values), so the print view is what was typed.
  function mirror() {
    fields().forEach(function (input) {
      var out = root.querySelector('[data-out="' + input.name + '"]');
      if (!out) { return; }
      var value = input.value;
      if (input.tagName === "SELECT") { value = value ? input.options[input.selectedIndex].text : ""; }
      var date = input.type === "date" && /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
      if (date) {
        value = S.jd_date.replace("{y}", date[1]).replace("{m}", String(Number(date[2])))
          .replace("{d}", String(Number(date[3])));
      }
      text(out, value);
    });
  }

  function clear() {
    visitId = null;
    confirmed = false;
    fields().forEach(function (input) { input.value = ""; });
    root.querySelectorAll("[data-out]").forEach(function (out) { out.replaceChildren(); });
    root.querySelectorAll("tr.invalid").forEach(function (tr) { tr.classList.remove("invalid"); });
    form.hidden = true;
    text(el("jd-number"), "");
    text(el("jd-sheet-number"), "");
    el("jd-print").disabled = true;
    el("jd-download").disabled = true;
  }

  function setField(name, value) {
    var input = form.elements[name];
    if (input && !input.value && value) { input.value = value; }
  }

  // Pre-fill: the card shows the address the resident is registered at before this move, so it is the
  // 前の住所 for 転入, 転居 and 転出 alike; the new address, household, relation, furigana… staff ask.
  function loadCard(id) {
    fetch("/api/v1/counters/" + encodeURIComponent(counter) + "/card", {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (read) {
        if (!read || visitId !== id || read.ticket_id !== id) { return; }
        setField("name", read.card.name);
        setField("old_address", read.card.address);
        setField("birth_date", read.card.birth_date);
        setField("sex", read.card.sex);
        mirror();
      })
      .catch(function () {});
  }

  // A form confirmed earlier (the page was left and opened again) is shown back as it was confirmed.
  function loadConfirmed(id) {
    fetch(root.dataset.url + "/form", {credentials: "same-origin", cache: "no-store",
                                       headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (confirmedForm) {
        if (!confirmedForm || visitId !== id || confirmedForm.ticket_id !== id) { return; }
        fields().forEach(function (input) {
          var value = confirmedForm.fields[input.name];
          input.value = value == null ? "" : String(value);
        });
        mirror();
      })
      .catch(function () {});
  }

  function render(state) {
    var visit = state.visit;
    if (!visit) {
      var had = visitId !== null;
      clear();
      text(el("jd-status"), had ? S.jd_ended : S.jd_none);
      return;
    }
    if (visit.id !== visitId) {
      clear();
      visitId = visit.id;
      form.elements.notified_on.value = visit.today;
      form.elements.kind.value = visit.kind;
      form.elements.notifier.value = "self";
      form.hidden = false;
      el("jd-print").disabled = false;
      if (visit.handoff === "confirmed") { loadConfirmed(visit.id); } else { loadCard(visit.id); }
    }
    text(el("jd-number"), S.jd_for_visit.replace("{number}", visit.display_number));
    text(el("jd-sheet-number"), S.jd_sheet_number.replace("{number}", visit.display_number));
    confirmed = visit.handoff === "confirmed";
    el("jd-download").disabled = !confirmed;
    text(el("jd-status"), visit.handoff === "taken" ? S.jd_taken : confirmed ? S.jd_confirmed
         : S["jd_kind_" + visit.kind]);
    mirror();
  }

  function refresh() { return StaffPage.fetchState("/staff/counter/form/state", render); }

  function problem(answer) {
    root.querySelectorAll("tr.invalid").forEach(function (tr) { tr.classList.remove("invalid"); });
    var row = answer.field && root.querySelector('tr[data-field="' + answer.field + '"]');
    if (!row && answer.field === "notifier_name") { row = root.querySelector('tr[data-field="notifier"]'); }
    if (row) { row.classList.add("invalid"); }
    text(el("jd-message"), StaffPage.problemText(answer, S.error_generic));
  }

  form.addEventListener("input", function (event) {
    var row = event.target.closest("tr.invalid");
    if (row) { row.classList.remove("invalid"); }
    mirror();
  });
  form.addEventListener("change", mirror);
  el("jd-self-head").addEventListener("click", function () {
    form.elements.household_head.value = form.elements.name.value;
    if (!form.elements.relation.value) { form.elements.relation.value = S.jd_self_head_relation || ""; }
    mirror();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!visitId) { return; }
    text(el("jd-message"), "");
    var body = {ticket_id: visitId};
    fields().forEach(function (input) { body[input.name] = input.value; });
    el("jd-confirm").disabled = true;
    fetch(root.dataset.url + "/form", {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                             headers: {"X-CSRF-Token": csrf, "Accept": "application/json",
                                       "Content-Type": "application/json"}})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (answer) {
          if (r.ok) {
            root.querySelectorAll("tr.invalid").forEach(function (tr) { tr.classList.remove("invalid"); });
            text(el("jd-message"), "");
          } else { problem(answer); }
        });
      })
      .catch(function () { text(el("jd-message"), S.error_generic); })
      .then(function () { el("jd-confirm").disabled = false; return refresh(); });
  });

  el("jd-print").addEventListener("click", function () { mirror(); window.print(); });

  // The hand-off file, once: fetched, handed to the browser as a download, then gone from the server.
  el("jd-download").addEventListener("click", function () {
    if (!confirmed) { return; }
    text(el("jd-message"), "");
    fetch(root.dataset.url + "/handoff", {credentials: "same-origin", cache: "no-store",
                                          headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) { return r.json().catch(function () { return {}; }).then(problem); }
        var name = (r.headers.get("Content-Disposition") || "").replace(/^.*filename="([^"]+)".*$/, "$1");
        return r.blob().then(function (blob) {
          var link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = name || "juminido.json";
          document.body.append(link);
          link.click();
          link.remove();
          window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
          text(el("jd-message"), "");
        });
      })
      .catch(function () { text(el("jd-message"), S.error_generic); })
      .then(refresh);
  });

  StaffPage.follow(S, refresh);
  refresh();
  window.addEventListener("pagehide", clear);
})();
