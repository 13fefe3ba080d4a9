// The owner's live page: refreshes "Right now" every few seconds, so a view that starts shows up at once.
(function () {
  "use strict";
  var section = document.getElementById("live-now"), box = document.getElementById("viewing");
  if (!section || !box) return;
  function render(rows) {
    box.textContent = "";
    if (!rows.length) { var p = document.createElement("p"); p.textContent = "Nobody is viewing this camera."; box.appendChild(p); return; }
    var head = document.createElement("p"), strong = document.createElement("strong");
    strong.textContent = "Being viewed now"; head.appendChild(strong); head.appendChild(document.createTextNode(":"));
    var list = document.createElement("ul");
    rows.forEach(function (v) {
      var li = document.createElement("li");
      li.textContent = v.who + " · case " + v.case + " · “" + v.reason + "”" +
        (v.override ? " · supervisor override: “" + v.override + "”" : "") +
        " · since " + new Date(v.since).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) +
        ", until " + new Date(v.until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + " at the latest";
      list.appendChild(li);
    });
    box.appendChild(head); box.appendChild(list);
  }
  function poll() {
    fetch(section.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) render(body.viewing); })
      .catch(function () {});
  }
  setInterval(poll, 3000);
})();
