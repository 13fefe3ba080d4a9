// The staff map's dispatch layer: calls for service (with their nearest cameras) and officer positions, live
// over ws/dispatch/. The map itself comes from map.js (window.connectStaffMap).
(function () {
  "use strict";
  var map = window.connectStaffMap;
  if (!map || !window.WebSocket) return;
  var panel = document.querySelector(".map-panel");
  var mapEl = document.getElementById("map");
  var callsLayer = L.layerGroup().addTo(map), unitsLayer = L.layerGroup().addTo(map);
  var calls = {}, units = {}, retry = 1000, heard = false;
  // Close codes, one meaning each (common/socket_messages.py, Close).
  var CLOSE_UNAUTHENTICATED = 4401, CLOSE_FORBIDDEN = 4403;

  var section = document.createElement("section");
  section.id = "dispatch-panel";
  section.innerHTML = '<h2>Calls for service</h2>' +
    '<label><input type="checkbox" id="dispatch-show-calls" checked> Calls</label> ' +
    '<label><input type="checkbox" id="dispatch-show-units" checked> Officers</label>' +
    '<p id="dispatch-status" role="status" aria-live="polite">Connecting to dispatch…</p>' +
    '<ul id="dispatch-calls" aria-live="polite"></ul>';
  panel.insertBefore(section, document.getElementById("map-status"));
  var statusEl = section.querySelector("#dispatch-status"), listEl = section.querySelector("#dispatch-calls");
  section.querySelector("#dispatch-show-calls").addEventListener("change", function (e) {
    if (e.target.checked) callsLayer.addTo(map); else map.removeLayer(callsLayer);
  });
  section.querySelector("#dispatch-show-units").addEventListener("change", function (e) {
    if (e.target.checked) unitsLayer.addTo(map); else map.removeLayer(unitsLayer);
  });

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function callDetails(c) {
    var box = el("div", "dispatch-call-details");
    box.appendChild(el("strong", "", "P" + c.priority + " " + c.call_type));
    box.appendChild(el("div", "", (c.address || c.lat.toFixed(5) + ", " + c.lng.toFixed(5)) + " · " +
      c.status.replace("_", " ") + " · " + new Date(c.received_at).toLocaleTimeString([], { timeZone: document.documentElement.dataset.timeZone || undefined })));
    if (c.incident) box.appendChild(el("div", "dispatch-case", "Case " + c.incident));
    if (window.connectLive) {  // live_view.js: only for those allowed to open live views
      var q = new URLSearchParams({ lat: c.lat.toFixed(6), lng: c.lng.toFixed(6) });
      if (c.incident) q.set("case", c.incident);
      var wall = el("a", "button wall-link", "Incident wall");
      wall.href = "/live/wall/?" + q;
      box.appendChild(wall);
    }
    var cams = el("ul", "dispatch-cameras");
    if (!c.cameras.length) cams.appendChild(el("li", "", "No registered camera nearby."));
    c.cameras.forEach(function (cam) {
      var li = el("li", cam.level === "integrated" ? "integrated" : "", cam.label + " · " + Math.round(cam.distance_m) + " m");
      li.dataset.code = cam.code;
      if (cam.level === "integrated") {
        li.appendChild(el("span", "badge", "live"));
        if (window.connectLive) {  // live_view.js: only for those allowed to open live views
          var watch = el("button", "button watch-live", "Watch live");
          watch.type = "button";
          watch.dataset.watchLive = cam.code;
          li.appendChild(watch);
        }
      }
      cams.appendChild(li);
    });
    box.appendChild(cams);
    return box;
  }

  function showCall(c) {
    var held = calls[c.code];
    if (held) { callsLayer.removeLayer(held.marker); held.item.remove(); delete calls[c.code]; }
    if (c.status === "cleared") return update();
    var marker = L.marker([c.lat, c.lng], {
      title: c.call_type, zIndexOffset: 1000,
      icon: L.divIcon({ className: "dispatch-call dispatch-p" + Math.min(c.priority, 3), html: "<span>" + c.priority + "</span>", iconSize: [26, 26] })
    }).bindPopup(function () { return callDetails(c); }).addTo(callsLayer);
    var item = el("li", "dispatch-p" + Math.min(c.priority, 3));
    item.dataset.code = c.code;
    item.appendChild(callDetails(c));
    item.tabIndex = 0;
    item.addEventListener("click", function () { map.setView([c.lat, c.lng], Math.max(map.getZoom(), 17)); marker.openPopup(); });
    listEl.insertBefore(item, listEl.firstChild);
    calls[c.code] = { marker: marker, item: item };
    update();
  }

  function showPositions(list) {
    list.forEach(function (p) {
      var held = units[p.unit];
      var html = '<span class="dispatch-arrow" style="transform: rotate(' + (p.heading || 0) + 'deg)">▲</span>';
      if (held) {
        if (held.at > p.at) return;  // an older fix arriving late
        held.marker.setLatLng([p.lat, p.lng]).setIcon(unitIcon(html, p.unit));
        held.at = p.at;
      } else {
        units[p.unit] = { at: p.at, marker: L.marker([p.lat, p.lng], { title: p.unit, icon: unitIcon(html, p.unit), interactive: true })
          .bindTooltip(p.unit).addTo(unitsLayer) };
      }
    });
    update();
  }

  function unitIcon(html, unit) {
    return L.divIcon({ className: "dispatch-unit", html: html + "<b>" + unit.replace(/[^\w.-]/g, "") + "</b>", iconSize: [18, 18] });
  }

  function update() {
    var n = Object.keys(calls).length, u = Object.keys(units).length;
    mapEl.dataset.dispatchCalls = n;
    mapEl.dataset.dispatchUnits = u;
    statusEl.textContent = n + (n === 1 ? " open call" : " open calls") + ", " + u + (u === 1 ? " unit" : " units") + " on the map (live).";
  }

  function connect() {
    var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/dispatch/");
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      retry = 1000;
      heard = true;
      if (event.type === "snapshot") {
        callsLayer.clearLayers(); unitsLayer.clearLayers(); listEl.textContent = ""; calls = {}; units = {};
        event.calls.slice().reverse().forEach(showCall);
        showPositions(event.positions);
        update();
      } else if (event.type === "call") {
        showCall(event.call);
      } else if (event.type === "positions") {
        showPositions(event.positions);
      } else if (event.type === "interrupted") {
        statusEl.textContent = event.reason;  // the server lost Redis; a fresh snapshot follows when it is back
      }
    };
    socket.onclose = function (e) {
      if (e.code === CLOSE_FORBIDDEN && !heard) { section.hidden = true; return; }  // the role has no dispatch feed
      if (e.code === CLOSE_FORBIDDEN) { statusEl.textContent = "Live dispatch feed closed: your role no longer includes it."; return; }
      if (e.code === CLOSE_UNAUTHENTICATED) { statusEl.textContent = "Live dispatch feed closed: sign in again."; return; }
      statusEl.textContent = "Dispatch feed lost; reconnecting…";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();
