// The broadcast form: show only the chosen topic's key messages, and preview text, cost and audience.
(function () {
  "use strict";
  var form = document.getElementById("broadcast-form");
  if (!form) { return; }
  var topic = document.getElementById("topic");
  var number = document.getElementById("number");
  var pending = null;

  function showTopic() {
    var first = null;
    number.querySelectorAll("optgroup").forEach(function (group) {
      var mine = group.getAttribute("data-topic") === topic.value;
      group.hidden = !mine;
      group.disabled = !mine;
      if (mine && !first) { first = group.querySelector("option"); }
    });
    var chosen = number.options[number.selectedIndex];
    if (!chosen || chosen.parentNode.hidden) { if (first) { first.selected = true; } }
  }

  function set(id, text) { document.getElementById(id).textContent = text; }

  function refresh() {
    var params = new URLSearchParams();
    params.set("topic", topic.value);
    params.set("number", number.value);
    form.querySelectorAll('input[name="groups"]:checked').forEach(function (box) { params.append("group", box.value); });
    var stage = document.getElementById("stage");
    if (stage && stage.value) {
      params.set("stage", stage.value);
      params.set("range", document.getElementById("stage-range").value);
    }
    fetch(form.getAttribute("data-preview-url") + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        if (p.error) { set("preview-text", p.error); return; }
        set("preview-text", p.text);
        set("preview-encoding", p.encoding + " · " + p.segments + " SMS · " + p.units + " units");
        set("preview-audience", p.audience.toLocaleString());
        set("preview-cost", p.cost.toLocaleString());
      })
      .catch(function () { set("preview-text", "Preview unavailable (no connection)."); });
  }

  function later() { clearTimeout(pending); pending = setTimeout(refresh, 250); }

  topic.addEventListener("change", function () { showTopic(); later(); });
  number.addEventListener("change", later);
  form.addEventListener("change", function (e) {
    if (e.target.name === "groups" || e.target.name === "stage" || e.target.name === "stage_range") { later(); }
  });
  showTopic();
  refresh();
})();
