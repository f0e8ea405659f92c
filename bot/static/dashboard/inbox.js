// The inbox: fill an answer from a canned one, and count it as the person's channel will (SMS segments or characters).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  document.querySelectorAll("form.answer-form").forEach(function (form) {
    var text = form.querySelector("textarea[name=text]");
    var counter = form.querySelector(".counter");
    var canned = form.querySelector("select.canned");
    var channel = form.getAttribute("data-channel");
    var pending = null;
    function count() {
      fetch(form.getAttribute("data-count-url"), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
        body: JSON.stringify({ text: text.value, channel: channel })
      }).then(function (r) { return r.json(); }).then(function (c) {
        counter.textContent = c.channel === "whatsapp"
          ? "WhatsApp · " + c.characters + " / " + c.limit + " characters (one message)"
          : "SMS · " + c.encoding + " · " + c.segments + " SMS · " + c.characters + " / " + c.limit + " characters";
      });
    }
    text.addEventListener("input", function () { clearTimeout(pending); pending = setTimeout(count, 200); });
    if (canned) {
      canned.addEventListener("change", function () { if (canned.value) { text.value = canned.value; count(); } });
    }
  });
})();
