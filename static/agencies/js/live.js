// An outside agency's live view: frames from the session's socket into the picture, and why it ended.
(function () {
  "use strict";
  var viewer = document.getElementById("agency-live");
  if (!viewer) return;
  var frame = document.getElementById("live-frame");
  var status = document.getElementById("live-status");
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var ws = new WebSocket(scheme + location.host + viewer.dataset.socket);
  var shown = null;
  ws.binaryType = "blob";
  ws.onmessage = function (event) {
    if (typeof event.data !== "string") {
      var url = URL.createObjectURL(event.data);
      frame.onload = function () { if (shown) URL.revokeObjectURL(shown); shown = url; };
      frame.src = url;
      viewer.dataset.frames = String(Number(viewer.dataset.frames || 0) + 1);
      return;
    }
    var message = JSON.parse(event.data);
    if (message.type === "session") status.textContent = "Live until " + message.ends_by;
    else if (message.type === "ended") status.textContent = "Ended: " + message.reason;
    else if (message.type === "interrupted") status.textContent = message.reason;
  };
  ws.onclose = function (event) { viewer.dataset.closed = String(event.code); };
  document.getElementById("live-close").addEventListener("click", function () { ws.close(1000); });
})();
