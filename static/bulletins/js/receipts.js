// A bulletin's receipts, live: each recipient's row turns received, opened, acknowledged as it happens.
(function () {
  "use strict";
  var box = document.getElementById("receipts");
  function time(iso) { return iso ? new Date(iso).toLocaleTimeString([], { hour12: false, timeZone: document.documentElement.dataset.timeZone || undefined }) : ""; }
  function show(r) {
    var row = document.getElementById("receipt-" + r.bulletin + "-" + r.user);
    if (!row) return;
    row.dataset.state = r.state;
    row.querySelector(".state").textContent = r.state;
    ["received_at", "opened_at", "acknowledged_at"].forEach(function (name) {
      row.querySelector("." + name).textContent = time(r[name]);
    });
  }
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + box.dataset.socket);
    ws.onopen = function () { box.dataset.live = "1"; };
    ws.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "receipts") message.receipts.forEach(show);
      else if (message.type === "receipt") show(message.receipt);
    };
    ws.onclose = function (event) {
      delete box.dataset.live;
      if (event.code !== 4401 && event.code !== 4403) setTimeout(connect, 2000);
    };
  }
  connect();
})();
