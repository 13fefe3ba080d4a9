// The owner's live page: refreshes "Right now" every few seconds, so a view that starts shows up at once.
(function () {
  "use strict";
  var section = document.getElementById("live-now"), box = document.getElementById("viewing");
  if (!section || !box) return;
  function fill(sentence, values) {  // one pass, so a value holding "{since}" is never filled in again
    return sentence.replace(/\{(\w+)\}/g, function (slot, name) { return name in values ? values[name] : slot; });
  }
  function clock(iso) {
    return new Date(iso).toLocaleTimeString(document.documentElement.lang || [], { hour: "2-digit", minute: "2-digit", timeZone: document.documentElement.dataset.timeZone || undefined });
  }
  function render(rows) {
    box.textContent = "";
    if (!rows.length) { var p = document.createElement("p"); p.textContent = section.dataset.nobody; box.appendChild(p); return; }
    var head = document.createElement("p"), strong = document.createElement("strong");
    strong.textContent = section.dataset.viewedNow; head.appendChild(strong); head.appendChild(document.createTextNode(":"));
    var list = document.createElement("ul");
    rows.forEach(function (v) {
      var li = document.createElement("li");
      // The sentences come translated from the page (data-view-line, data-override-line), with words to fill in.
      var values = { who: v.who, "case": v["case"], reason: v.reason, since: clock(v.since), until: clock(v.until),
                     override: v.override ? fill(section.dataset.overrideLine, { override: v.override }) : "" };
      li.textContent = fill(section.dataset.viewLine, values);
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
