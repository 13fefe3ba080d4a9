// Live views from the staff map: the "Watch live" dialog asks for the incident and a reason, the server
// checks every rule, and the view streams JPEG frames over a websocket until it ends (the owner's limit,
// the owner stopping it, or the analyst closing it). When the server loses Redis the socket stays open: it says why
// the picture stopped ("interrupted") and, once the rules pass again, sends "session" anew and the picture comes
// back. Exposes window.connectLive.open(cameraCode).
(function () {
  "use strict";
  var dialog = document.getElementById("live-dialog"), form = document.getElementById("live-form");
  var viewer = document.getElementById("live-viewer"), frameEl = document.getElementById("live-frame");
  var statusEl = document.getElementById("live-status"), errorEl = document.getElementById("live-error");
  var incidentEl = document.getElementById("live-incident"), camera = null, socket = null, lastUrl = null;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  // Focus goes into the dialog, then into the viewer, and back to the "Watch live" button that opened them when
  // they close; if that button is gone (its popup closed, the markers rebuilt), to another for the same camera.
  var opener = null, openerCode = null, viewing = false;
  function giveFocusBack() {
    var target = opener && opener.isConnected && opener.getClientRects().length ? opener
      : document.querySelector("[data-watch-live=\"" + openerCode + "\"]") || document.getElementById("map");
    if (target) target.focus();
  }
  dialog.addEventListener("close", function () { if (!viewing) giveFocusBack(); });

  function open(code) {
    errorEl.textContent = "";
    opener = document.activeElement;
    openerCode = code;
    viewing = false;
    fetch("/live/cameras/" + code + ".json", { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { alert(res.body.detail || "This camera cannot be opened."); return; }
        camera = res.body.camera;
        var rules = res.body.rules;
        document.getElementById("live-camera-label").textContent = "“" + camera.label + "”";
        document.getElementById("live-rules").textContent = "Owner's rules: " + rules.hours + "; up to " + rules.max_minutes +
          " minutes" + (rules.incident_required ? "; only for an open incident within " + rules.incident_radius_m + " m" : "") +
          (rules.allowed_now ? "." : ". Not allowed at this hour.") + (rules.paused ? " Paused by the owner." : "");
        document.getElementById("live-training").textContent = res.body.training_valid_until ?
          "Your privacy training is valid until " + res.body.training_valid_until + "." : "You have no current privacy training on record.";
        incidentEl.length = 1;
        res.body.incidents.forEach(function (i) {
          var option = document.createElement("option");
          option.value = i.code;
          option.textContent = i.case_number + " · " + i.offense_type + " · " + i.distance_m + " m" + (i.within_rule ? "" : " (outside the owner's radius)");
          incidentEl.appendChild(option);
        });
        if (res.body.incidents.length && res.body.incidents[0].within_rule) incidentEl.selectedIndex = 1;
        document.getElementById("live-override-box").hidden = !res.body.can_override;
        document.getElementById("live-ask-box").hidden = !res.body.can_ask_override;
        overrides.reset();
        dialog.showModal();
      })
      .catch(function () { alert("Could not reach the server."); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    errorEl.textContent = "";
    fetch("/live/sessions/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ camera: camera.code, incident: incidentEl.value || null,
                             reason: document.getElementById("live-reason").value,
                             override_reason: document.getElementById("live-override").value,
                             override: overrides.approved() })
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { errorEl.textContent = res.body.detail || "Refused."; return; }
        viewing = true;
        dialog.close();
        watch(res.body);
      })
      .catch(function () { errorEl.textContent = "Could not reach the server."; });
  });
  document.getElementById("live-cancel").addEventListener("click", function () { dialog.close(); });

  // Clock times in the program's time zone (the page's), whatever the browser's.
  function time(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit",
                                                  timeZone: document.documentElement.dataset.timeZone || undefined });
  }

  // Two-person override: ask, then wait for a supervisor's decision (polled); an approval is sent with the view.
  var overrides = (function () {
    var askStatus = document.getElementById("live-ask-status"), approvedCode = null, timer = null;
    function poll(code) {
      fetch("/live/overrides/" + code + ".json", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (o) {
          if (o.state === "pending") { timer = setTimeout(function () { poll(code); }, 3000); return; }
          if (o.state === "approved") {
            approvedCode = o.override;
            askStatus.textContent = "Approved by " + o.decided_by + ": “" + o.decision_reason + "”. Open the view now (good until " + time(o.valid_until) + ").";
          } else {
            askStatus.textContent = o.state === "refused" ? "Refused by " + o.decided_by + ": “" + o.decision_reason + "”."
              : "No supervisor decided in time. You may ask again.";
          }
        })
        .catch(function () { timer = setTimeout(function () { poll(code); }, 5000); });
    }
    document.getElementById("live-ask").addEventListener("click", function () {
      askStatus.textContent = "";
      fetch("/live/overrides/ask/", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ camera: camera.code, incident: incidentEl.value || null,
                               reason: document.getElementById("live-ask-reason").value })
      }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
        .then(function (res) {
          if (!res.ok) { askStatus.textContent = res.body.detail || "Refused."; return; }
          askStatus.textContent = "Waiting for a supervisor (they decide by " + time(res.body.decide_by) + ")…";
          poll(res.body.override);
        })
        .catch(function () { askStatus.textContent = "Could not reach the server."; });
    });
    return {
      approved: function () { return approvedCode; },
      reset: function () { clearTimeout(timer); approvedCode = null; askStatus.textContent = ""; }
    };
  })();

  function watch(session) {
    if (socket) socket.close(1000);
    viewer.hidden = false;
    document.getElementById("live-title").textContent = session.camera + (session.case ? " · " + session.case : "");
    viewer.focus();
    statusEl.textContent = "Connecting…";
    stillButton.disabled = false;
    shareButton.disabled = false;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + session.socket);
    ws.binaryType = "blob";
    socket = ws;
    ws.onmessage = function (event) {
      if (typeof event.data !== "string") {
        if (viewer.dataset.ended || viewer.dataset.interrupted) return;
        var url = URL.createObjectURL(event.data);
        frameEl.src = url;
        if (lastUrl) URL.revokeObjectURL(lastUrl);
        lastUrl = url;
        viewer.dataset.frames = String(Number(viewer.dataset.frames || 0) + 1);
        return;
      }
      var message = JSON.parse(event.data);
      if (message.type === "session") {
        // Other scripts on the page (detections' live watch marks) follow the view through these two events.
        document.dispatchEvent(new CustomEvent("connect:live-session", { detail: { session: message.session } }));
        delete viewer.dataset.interrupted;
        stillButton.disabled = false;
        statusEl.textContent = "Live until " + time(message.ends_by) + " at the latest";
      } else if (message.type === "interrupted") {
        statusEl.textContent = message.reason;
        viewer.dataset.interrupted = "1";
        stopped();
      } else if (message.type === "ended") {
        statusEl.textContent = "Ended: " + message.reason;
        viewer.dataset.ended = message.reason;
        stopped();
      } else if (message.type === "still_saved") {
        statusEl.textContent = "Still saved as evidence (SHA-256 " + message.sha256.slice(0, 12) + "…).";
      } else if (message.type === "frame_held") {
        // The frame is held on the server; the bulletin page opens beside the live view.
        statusEl.textContent = "Frame held for a bulletin.";
        var opened = window.open(message.url, "_blank");
        if (!opened) window.location.assign(message.url);
      } else if (message.type === "still_failed") {
        statusEl.textContent = "Still not saved: " + message.reason;
      }
    };
    ws.onclose = function () {
      if (socket === ws) socket = null;
      if (!viewer.dataset.ended) statusEl.textContent = "The live view closed.";
      viewer.dataset.closed = "1";
      stopped();
    };
  }
  // An ended view shows no picture (an old frame would pass for live) and cannot save a still.
  function stopped() {
    document.dispatchEvent(new CustomEvent("connect:live-stopped"));
    frameEl.removeAttribute("src");
    if (lastUrl) { URL.revokeObjectURL(lastUrl); lastUrl = null; }
    stillButton.disabled = true;
    shareButton.disabled = true;
  }
  var stillButton = document.getElementById("live-still");
  stillButton.addEventListener("click", function () {
    if (socket) socket.send(JSON.stringify({ type: "still" }));
  });
  var shareButton = document.getElementById("live-share");
  shareButton.addEventListener("click", function () {
    if (socket) socket.send(JSON.stringify({ type: "share" }));
  });
  document.getElementById("live-close").addEventListener("click", function () {
    if (socket) socket.close(1000);
    viewer.hidden = true;
    giveFocusBack();
    delete viewer.dataset.ended; delete viewer.dataset.closed; delete viewer.dataset.frames;
    delete viewer.dataset.interrupted;
  });
  window.connectLive = { open: open };
})();
