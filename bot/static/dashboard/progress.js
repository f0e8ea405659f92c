// Live broadcast progress: poll each unfinished broadcast's JSON and move its bar.
// Text is set with textContent only, never as HTML.
(function () {
  "use strict";
  var INTERVAL = 2000;
  var FINAL = { done: true, cancelled: true };

  function update(box, data) {
    var f = data.figures;
    box.querySelector("rect.done").setAttribute("width", String(data.percent));
    box.querySelector(".percent").textContent = data.percent + "%";
    var shown = { planned: f.planned, sent: f.sent, delivered: f.delivered,
                  failed: f.failed + f.invalid, unknown: f.unknown };
    Object.keys(shown).forEach(function (name) {
      var el = box.querySelector('[data-figure="' + name + '"]');
      if (el) { el.textContent = String(shown[name]); }
    });
    box.setAttribute("data-status", data.status);
    var status = document.querySelector('[data-status-of="' + data.id + '"]');
    if (status) { status.textContent = data.status; status.className = "status s-" + data.status; }
    var row = box.closest("tr");
    var actions = row && row.querySelector(".actions");
    if (actions && data.final) { actions.hidden = true; }  // nothing left to pause or cancel
  }

  function poll(box) {
    fetch(box.getAttribute("data-progress-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        update(box, data);
        if (!data.final) { setTimeout(function () { poll(box); }, INTERVAL); }
      })
      .catch(function () { setTimeout(function () { poll(box); }, INTERVAL * 5); });  // slow or offline: back off
  }

  document.querySelectorAll("[data-progress-url]").forEach(function (box) {
    if (!FINAL[box.getAttribute("data-status")]) { poll(box); }
  });
})();
