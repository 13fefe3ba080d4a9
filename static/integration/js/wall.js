// The incident wall: opens a live view of each camera around the spot (POST /live/wall/open/), then carries every
// tile's frames on one socket (ws/wall/): each binary message is one byte (the tile's slot) and a JPEG. Tiles in
// sight are watched, tiles scrolled out are unwatched (no frames sent), a closed tile ends its view. Marking a
// direction of flight (the small map, or the compass buttons) re-orders the tiles toward the cameras ahead.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("wall-config").textContent);
  var form = document.getElementById("wall-form"), grid = document.getElementById("wall-grid");
  var statusEl = document.getElementById("wall-status"), errorEl = document.getElementById("wall-error");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var tiles = {}, bySlot = {}, ws = null, heading = null, frames = 0;
  var centre = L.latLng(config.centre[0], config.centre[1]);

  var map = L.map("wall-map", { zoomControl: true }).setView(centre, 16);
  if (window.connectBaseMap) window.connectBaseMap(map, config);
  L.circleMarker(centre, { radius: 7, color: "#b00020", fillOpacity: 0.8 }).addTo(map).bindTooltip("The spot");
  var flight = null, cameraLayer = L.layerGroup().addTo(map);

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function tileOf(cam) {
    var li = el("li", "wall-tile");
    li.dataset.camera = cam.code;
    li.tabIndex = 0;
    var bar = el("div", "wall-tile-bar");
    bar.appendChild(el("strong", "", cam.label));
    bar.appendChild(el("span", "wall-meta", cam.distance_m + " m" + (cam.facing ? " · faces the spot" : "")));
    li.appendChild(bar);
    var img = el("img");
    img.alt = "Live picture of " + cam.label + " (privacy masks applied)";
    li.appendChild(img);
    li.appendChild(el("p", "wall-note"));
    li.setAttribute("aria-label", cam.label);
    return li;
  }

  function closeButton(tile) {
    var close = el("button", "button wall-close", "Close");
    close.type = "button";
    close.setAttribute("aria-label", "Close " + tile.camera.label);
    close.addEventListener("click", function () { tile.closing = true; send({ type: "close", session: tile.session }); });
    tile.li.querySelector(".wall-tile-bar").appendChild(close);
  }

  function ended(tile, reason) {
    if (tile.li.classList.contains("ended")) return;  // the first reason given is the one that counts
    tile.li.dataset.ended = reason || "ended";
    tile.li.classList.add("ended");
    var img = tile.li.querySelector("img");
    if (img.src) URL.revokeObjectURL(img.src);
    img.removeAttribute("src");
    tile.li.querySelector(".wall-note").textContent = reason;
    var close = tile.li.querySelector(".wall-close");
    if (close) close.remove();
    if (tile.slot !== undefined) delete bySlot[tile.slot];
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  // Only tiles in sight get frames: the rest are unwatched until scrolled back.
  var seen = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var tile = tiles[entry.target.dataset.session];
      if (!tile || tile.closing || tile.li.classList.contains("ended")) return;
      tile.visible = entry.isIntersecting;
      send({ type: entry.isIntersecting ? "watch" : "unwatch", session: tile.session });
    });
  });

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/wall/");
    ws.binaryType = "blob";
    ws.onopen = function () {
      statusEl.textContent = "Connected.";
      // Every tile is opened at once (a view never opened ends itself within a minute); the observer then unwatches
      // those out of sight, and watches them again as they scroll in.
      Object.keys(tiles).forEach(function (code) {
        send({ type: "watch", session: code });
        seen.unobserve(tiles[code].li);
        seen.observe(tiles[code].li);
      });
    };
    ws.onmessage = function (event) {
      if (typeof event.data !== "string") { showFrame(event.data); return; }
      var m = JSON.parse(event.data), tile = tiles[m.session];
      if (m.type === "tile" && tile) {
        tile.slot = m.slot; bySlot[m.slot] = tile;
        tile.li.querySelector(".wall-note").textContent = "Live until " + new Date(m.ends_by).toLocaleTimeString([], { timeZone: document.documentElement.dataset.timeZone || undefined });
      } else if (m.type === "tile_ended") {
        if (tile) ended(tile, m.reason); else if (!m.session) statusEl.textContent = m.reason;
      } else if (m.type === "interrupted") {
        statusEl.textContent = m.reason;
        // No frozen picture that could pass for live: every open tile goes blank until it says it is live again.
        Object.keys(tiles).forEach(function (code) {
          var t = tiles[code], img = t.li.querySelector("img");
          if (t.li.classList.contains("ended")) return;
          if (img.src) URL.revokeObjectURL(img.src);
          img.removeAttribute("src");
          t.li.querySelector(".wall-note").textContent = m.reason;
        });
      }
    };
    ws.onclose = function () { statusEl.textContent = "The wall's connection closed."; grid.dataset.closed = "1"; };
  }

  function showFrame(blob) {
    blob.slice(0, 1).arrayBuffer().then(function (head) {
      var tile = bySlot[new Uint8Array(head)[0]];
      if (!tile) return;
      var img = tile.li.querySelector("img"), old = img.src;
      img.src = URL.createObjectURL(blob.slice(1, blob.size, "image/jpeg"));
      if (old) URL.revokeObjectURL(old);
      tile.frames = (tile.frames || 0) + 1;
      tile.li.dataset.frames = tile.frames;
      frames += 1;
      grid.dataset.frames = frames;
    });
  }

  function render(body) {
    grid.textContent = "";
    cameraLayer.clearLayers();
    if (!body.tiles.length) { statusEl.textContent = "No integrated camera around this spot."; return; }
    body.tiles.forEach(function (t) {
      var li = tileOf(t.camera);
      grid.appendChild(li);
      L.circleMarker(L.latLng(t.camera.lat, t.camera.lng), { radius: 5, color: t.session ? "#1f5f99" : "#777" })
        .bindTooltip(t.camera.label).addTo(cameraLayer);
      if (t.session) {
        var tile = { session: t.session, camera: t.camera, li: li };
        li.dataset.session = t.session;
        tiles[t.session] = tile;
        closeButton(tile);
      } else {
        li.classList.add("refused", "ended");
        li.dataset.ended = t.refused;
        li.querySelector(".wall-note").textContent = "Not shown: " + t.refused;
      }
    });
    var open = Object.keys(tiles).length;
    statusEl.textContent = open + " of " + body.tiles.length + " cameras open.";
    if (open) connect();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var reason = document.getElementById("wall-reason").value.trim();
    if (reason.length < config.minReason) {
      errorEl.textContent = "Give a reason of at least " + config.minReason + " characters.";
      return;
    }
    errorEl.textContent = "";
    document.getElementById("wall-open").disabled = true;
    fetch("/live/wall/open/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ incident: config.incident, lat: centre.lat, lng: centre.lng, reason: reason, heading: heading })
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { errorEl.textContent = res.body.detail || "The wall could not open."; document.getElementById("wall-open").disabled = false; return; }
        form.hidden = true;
        render(res.body);
      })
      .catch(function () { errorEl.textContent = "The server could not be reached."; document.getElementById("wall-open").disabled = false; });
  });

  // Direction of flight: re-orders the tiles (the server's order, the same as opening with it).
  function markFlight(deg) {
    heading = deg;
    document.querySelectorAll("#wall-compass button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.heading === (deg === null ? "" : String(deg))));
    });
    if (flight) { map.removeLayer(flight); flight = null; }
    if (deg !== null) {
      var r = 0.003, rad = deg * Math.PI / 180;
      var tip = L.latLng(centre.lat + r * Math.cos(rad), centre.lng + r * Math.sin(rad) / Math.cos(centre.lat * Math.PI / 180));
      flight = L.polyline([centre, tip], { color: "#b00020", weight: 4, dashArray: "6 6" }).addTo(map);
    }
    grid.dataset.heading = deg === null ? "" : String(deg);
    var cams = Array.prototype.map.call(grid.children, function (li) { return li.dataset.camera; });
    if (!cams.length) return;
    var q = new URLSearchParams({ lat: centre.lat, lng: centre.lng, heading: deg === null ? "" : deg });
    cams.forEach(function (c) { q.append("camera", c); });
    fetch("/live/wall/order.json?" + q, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { cameras: [] }; })
      .then(function (body) {
        body.cameras.forEach(function (c) {
          var li = grid.querySelector('[data-camera="' + c.code + '"]');
          if (li) grid.appendChild(li);
        });
        statusEl.textContent = deg === null ? "Nearest and facing first." : "Cameras ahead of the flight first.";
      });
  }
  document.querySelectorAll("#wall-compass button").forEach(function (b) {
    b.addEventListener("click", function () { markFlight(b.dataset.heading === "" ? null : Number(b.dataset.heading)); });
  });
  map.on("click", function (e) {
    var p1 = centre.lat * Math.PI / 180, p2 = e.latlng.lat * Math.PI / 180, dl = (e.latlng.lng - centre.lng) * Math.PI / 180;
    var y = Math.sin(dl) * Math.cos(p2), x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
    markFlight(Math.round((Math.atan2(y, x) * 180 / Math.PI + 360) % 360));
  });
  window.addEventListener("pagehide", function () { if (ws) ws.close(1000); });
})();
