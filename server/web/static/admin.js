// The admin page: device health read again on every server-sent event (a device's report, or one falling
// silent), a new device's token shown once in the page, revoking and disabling only after a confirmation.
(function () {
  "use strict";
  var root = document.getElementById("admin");
  if (!root) { return; }
  var csrf = root.dataset.csrf;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var el = StaffPage.el;
  var text = StaffPage.text;
  var cell = StaffPage.cell;

  function render(state) {
    var body = el("devices");
    body.replaceChildren();
    state.devices.forEach(function (d) {
      var tr = document.createElement("tr");
      tr.dataset.device = d.name;
      var th = document.createElement("th"); th.scope = "row"; text(th, d.name); tr.append(th);
      cell(tr, S["kind_" + d.kind] || d.kind);
      var health = d.revoked ? "revoked" : (!d.reported ? "never" : (d.online ? "online" : "offline"));
      tr.dataset.health = health;
      cell(tr, S["health_" + health], "health " + health);
      var printer = d.printer ? (S["printer_" + d.printer] || d.printer) : "—";
      cell(tr, printer, d.printer && d.printer !== "online" ? "bad" : "");
      var reader = d.card_reader ? (S["reader_" + d.card_reader] || d.card_reader)
        : (d.audio ? S["audio_" + d.audio] || d.audio : "—");
      cell(tr, reader, d.card_reader === "broken" || d.audio === "failed" ? "bad" : "");
      cell(tr, d.call_staff ? S.health_call_staff : (d.reported ? S.health_no : "—"), d.call_staff ? "bad" : "");
      cell(tr, d.seen || "—");
      var td = document.createElement("td");
      if (!d.revoked) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "danger"; b.dataset.action = "revoke";
        text(b, S.revoke);
        b.setAttribute("aria-label", d.name + " " + S.revoke);
        b.addEventListener("click", function () { revoke(d.name); });
        td.append(b);
      }
      tr.append(td);
      body.append(tr);
    });
  }

  function refresh() { return StaffPage.fetchState("/staff/admin/health", render); }

  function revoke(name) {
    if (!window.confirm(S.revoke_confirm.replace("{name}", name))) { return; }
    text(el("message"), "");
    StaffPage.send("/staff/admin/devices/" + encodeURIComponent(name) + "/revoke", new FormData(), csrf)
      .then(function (sent) {
        if (!sent.ok) { text(el("message"), StaffPage.problemText(sent.answer, S.error_generic)); }
        else { text(el("admin-status"), S.admin_done_device_revoked); }
      })
      .catch(function () { text(el("message"), S.error_generic); })
      .then(refresh);
  }

  root.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  // The token is in this answer only: shown in the page, never kept by the script or the server.
  var create = el("new-device");
  create.addEventListener("submit", function (event) {
    event.preventDefault();
    text(el("message"), "");
    StaffPage.send(create.action, new FormData(create), csrf)
      .then(function (sent) {
        if (!sent.ok) { text(el("message"), StaffPage.problemText(sent.answer, S.error_generic)); return; }
        text(el("token-device"), sent.answer.name + " (" + (S["kind_" + sent.answer.kind] || sent.answer.kind) + ")");
        var value = el("token-value");
        value.value = sent.answer.token;
        el("token-box").hidden = false;
        create.reset();
        value.focus();
        value.select();
      })
      .catch(function () { text(el("message"), S.error_generic); })
      .then(refresh);
  });

  StaffPage.follow(S, refresh).addEventListener("devices", refresh);
  refresh();
})();
