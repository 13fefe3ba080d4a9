// Live watch marks on the staff map's live view: while a view is open, ws/watch/<session>/ says which of its case's
// watches are on and sends a mark for each match (a box as fractions of the picture and what it shows); the box is
// drawn over the picture and a new match gets a line with its time in the list under it. The server sends marks
// only to the analyst holding the view who may search its case; for anyone else the socket just closes.
(function () {
  "use strict";
  var layer = document.getElementById("live-marks-layer"), list = document.getElementById("live-marks");
  if (!layer || !list) return;
  var socket = null, current = null, boxes = {};

  function clearBoxes() { layer.textContent = ""; boxes = {}; }
  function stop() {
    var link = document.getElementById("live-watch-set");
    if (link) link.hidden = true;
    if (socket) socket.close(1000);
    socket = null; current = null;
    clearBoxes();
  }
  function line(text) {
    var item = document.createElement("li");
    item.textContent = text;
    list.insertBefore(item, list.firstChild);
    list.hidden = false;
  }
  function draw(mark) {
    var box = boxes[mark.watch];
    if (!box) {
      box = document.createElement("div");
      box.className = "live-mark";
      box.appendChild(document.createElement("span"));
      layer.appendChild(box);
      boxes[mark.watch] = box;
    }
    box.style.left = (mark.box[0] * 100) + "%";
    box.style.top = (mark.box[1] * 100) + "%";
    box.style.width = (mark.box[2] * 100) + "%";
    box.style.height = (mark.box[3] * 100) + "%";
    box.firstChild.textContent = mark.label;
    clearTimeout(box.fade);
    box.fade = setTimeout(function () { box.remove(); delete boxes[mark.watch]; }, 3000);  // gone when not seen again
  }
  document.addEventListener("connect:live-session", function (event) {
    var session = event.detail.session;
    if (session === current && socket) return;
    stop();
    current = session;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/ws/watch/" + session + "/");
    socket = ws;
    ws.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "ready") {
        // The analyst may search this view's case: offer to set a watch for it (the case's search page).
        var link = document.getElementById("live-watch-set");
        if (!link) {
          link = document.createElement("a");
          link.id = "live-watch-set";
          link.className = "button";
          link.target = "_blank";
          link.rel = "noopener";
          link.textContent = "Alert me when a match appears…";
          document.getElementById("live-close").insertAdjacentElement("beforebegin", link);
        }
        link.href = message.search;
        link.hidden = false;
      } else if (message.type === "mark") {
        draw(message);
        if (message.new) {
          line(new Date(message.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: document.documentElement.dataset.timeZone || undefined }) +
               " · match: " + message.label);
        }
      } else if (message.type === "watches") {
        if (message.watches.length) line("Live watch on: looking for " + message.watches.length + " description(s).");
      } else if (message.type === "watch_paused") {
        line("Live watch paused: " + message.reason);
      }
    };
    ws.onclose = function () { if (socket === ws) { socket = null; clearBoxes(); } };
  });
  document.addEventListener("connect:live-stopped", stop);
})();
