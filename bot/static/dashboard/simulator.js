// The simulator's phone: send a text to the same engine as a real SMS and show the reply.
(function () {
  "use strict";
  var form = document.getElementById("simulator-form");
  if (!form) { return; }
  var input = form.querySelector("input[name=text]");
  var whatsapp = document.getElementById("simulator-whatsapp");
  var screen = document.getElementById("screen");
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  function bubble(text, who, meta) {
    var li = document.createElement("li");
    li.className = "bubble " + who;
    var body = document.createElement("div");
    body.className = "text";
    body.textContent = text;  // never innerHTML: bodies are whatever people typed
    li.appendChild(body);
    if (meta) {
      var m = document.createElement("div");
      m.className = "meta";
      m.textContent = meta;
      li.appendChild(m);
    }
    screen.appendChild(li);
    screen.scrollTop = screen.scrollHeight;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    input.value = "";
    bubble(text, "from-person");
    fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
      body: JSON.stringify({ text: text, whatsapp: !!(whatsapp && whatsapp.checked) })
    })
      .then(function (r) { return r.json(); })
      .then(function (reply) {
        if (reply.error) { bubble(reply.error, "from-bot error"); return; }
        if (!reply.parts.length) { bubble("(no reply)", "from-bot", ""); }
        reply.parts.forEach(function (part) {
          bubble(part.text, "from-bot", reply.whatsapp ? "WhatsApp · " + part.text.length + " characters"
                                                      : part.encoding + " · " + part.segments + " SMS");
        });
      })
      .catch(function () { bubble("No connection to the dashboard.", "from-bot error"); });
    input.focus();
  });
  screen.scrollTop = screen.scrollHeight;
})();
