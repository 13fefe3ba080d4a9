// An incident's admin page: while its footage requests are still queued or sending, the progress line and each
// row's state refresh every few seconds from progress.json, so the investigator sees them go out without reloading.
(function () {
  "use strict";
  var summary = document.getElementById("request-progress");
  if (!summary) return;
  var timer = null;

  function rows() {
    return document.querySelectorAll("#requests-group tbody tr.form-row td.field-shown_state p");
  }

  function refresh() {
    fetch(summary.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (progress) {
        summary.textContent = progress.summary;
        var cells = rows();
        if (cells.length !== progress.states.length) { return; } // a request added since: the next load shows it
        progress.states.forEach(function (state, i) { cells[i].textContent = state; });
        if (!progress.settled) { timer = setTimeout(refresh, 4000); }
      })
      .catch(function () { timer = setTimeout(refresh, 15000); });
  }

  if (/Queued|Sending/.test(summary.textContent)) { timer = setTimeout(refresh, 4000); }
  window.addEventListener("pagehide", function () { clearTimeout(timer); });
})();
