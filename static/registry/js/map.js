// The staff map: clustered active cameras from the viewport GeoJSON endpoint, layers by kind and level,
// view cones when zoomed in, and radius searches from a click or an address.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var statusEl = document.getElementById("map-status"), resultsEl = document.getElementById("results");
  var CONE_ZOOM = 16;
  // maxZoom is set here because with no tile layer (offline, tests) Leaflet would have none and clustering fails.
  var map = L.map("map", { preferCanvas: true, maxZoom: 19, minZoom: 3, attributionControl: !!config.tiles });
  var area = connectBaseMap(map, config);
  map.fitBounds(area.getBounds());
  window.connectStaffMap = map;  // for other layers (static/dispatch/js/dispatch_layer.js)

  var clusters = L.markerClusterGroup({ chunkedLoading: true, disableClusteringAtZoom: 17 }).addTo(map);
  var cones = L.layerGroup().addTo(map), searchLayer = L.layerGroup().addTo(map);
  var markersByCode = {}, pending = null;

  function text(value) { var span = document.createElement("span"); span.textContent = value; return span.innerHTML; }
  function icon(kind, level) {
    return L.divIcon({ className: "cam cam-" + kind + (level === "integrated" ? " cam-integrated" : ""), iconSize: [14, 14] });
  }
  // Integrated cameras get a "Watch live" button for those allowed to open live views (live_view.js).
  function watchButton(c) {
    if (!config.canWatchLive || c.level !== "integrated") return "";
    return " <button type=\"button\" class=\"button watch-live\" data-watch-live=\"" + c.code + "\">Watch live</button>";
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-watch-live]");
    if (button && window.connectLive) window.connectLive.open(button.dataset.watchLive);
  });
  function checked(name) {
    return Array.prototype.map.call(document.querySelectorAll("#layers input[name=" + name + "]:checked"), function (i) { return i.value; });
  }

  function load() {
    var size = map.getSize();
    if (!size.x || !size.y) return;  // not laid out yet: its bounds would be a line, and the server refuses those
    var b = map.getBounds(), params = new URLSearchParams();
    params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(","));
    var kinds = checked("kind"), levels = checked("level");
    if (!kinds.length || !levels.length) { clusters.clearLayers(); cones.clearLayers(); statusEl.textContent = "No layer selected."; return; }
    kinds.forEach(function (k) { params.append("kind", k); });
    levels.forEach(function (l) { params.append("level", l); });
    if (pending) pending.abort();
    pending = new AbortController();
    fetch("/map/cameras.geojson?" + params, { signal: pending.signal, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(draw)
      .catch(function (e) { if (e.name !== "AbortError") statusEl.textContent = "Could not load cameras (" + e.message + ")."; });
  }

  function draw(data) {
    clusters.clearLayers(); cones.clearLayers(); markersByCode = {};
    var markers = data.features.map(function (f) {
      var p = f.properties, ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var m = L.marker(ll, { icon: icon(p.kind, p.level), title: p.label, keyboard: true });
      m.bindPopup("<strong>" + text(p.label) + "</strong><br>" + text(p.kind) + " · " + text(p.level) +
        "<br>faces " + p.dir + "°, " + p.fov + "° wide, " + p.range + " m" + watchButton(p));
      markersByCode[p.code] = m;
      if (map.getZoom() >= CONE_ZOOM) {
        cones.addLayer(L.polygon(connectCone(ll[0], ll[1], p.dir, p.fov, p.range),
          { color: p.level === "integrated" ? "#7b1fa2" : "#1f5f99", weight: 1, fillOpacity: 0.15, interactive: false }));
      }
      return m;
    });
    clusters.addLayers(markers);
    statusEl.textContent = data.features.length + " cameras in view" +
      (data.truncated ? " (only the first " + data.features.length + ": zoom in to see all)" : "") + ".";
    document.getElementById("map").dataset.loaded = String(data.features.length);
  }

  function search(params) {
    var radius = document.getElementById("search-radius").value || "300";
    params.set("radius", radius);
    resultsEl.textContent = "Searching…";
    fetch("/map/nearby.json?" + params, { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { resultsEl.textContent = res.body.detail || "Search failed."; return; }
        showResults(res.body);
      })
      .catch(function () { resultsEl.textContent = "Search failed: the server could not be reached."; });
  }

  // Cases this user may send footage requests for: choosing one searches around it, and the results
  // get checkboxes (cameras facing the spot ticked) and a button that sends the requests.
  var caseSelect = document.getElementById("case-select"), cases = {};
  fetch("/requests/incidents.json", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { incidents: [] }; })
    .then(function (body) {
      body.incidents.forEach(function (c) {
        cases[c.code] = c;
        var option = document.createElement("option");
        option.value = c.code;
        option.textContent = c.case_number + " · " + c.offense_type;
        caseSelect.appendChild(option);
      });
      document.getElementById("case-panel").hidden = !body.incidents.length;
    })
    .catch(function () {});
  caseSelect.addEventListener("change", function () {
    var c = cases[caseSelect.value];
    if (!c) return;
    document.getElementById("search-radius").value = c.radius;
    search(new URLSearchParams({ lat: c.lat.toFixed(6), lng: c.lng.toFixed(6), case: c.case_number }));
  });

  function addRequestControls(body) {
    var c = cases[caseSelect.value];
    if (!c || !body.cameras.length) return;
    resultsEl.querySelectorAll("li").forEach(function (li) {
      var box = document.createElement("input");
      box.type = "checkbox"; box.name = "camera"; box.value = li.dataset.code;
      box.checked = li.classList.contains("covers");
      box.setAttribute("aria-label", "Request footage from " + li.querySelector("button").textContent);
      var pick = document.createElement("label");  // a finger-sized target around the box (site.css)
      pick.className = "pick";
      pick.appendChild(box);
      li.insertBefore(pick, li.firstChild);
    });
    var send = document.createElement("button");
    send.type = "button"; send.className = "button primary"; send.id = "send-requests";
    send.textContent = "Send footage requests for " + c.case_number;
    var note = document.createElement("p"); note.setAttribute("role", "status");
    resultsEl.appendChild(send); resultsEl.appendChild(note);
    send.addEventListener("click", function () {
      var codes = Array.prototype.map.call(resultsEl.querySelectorAll("input[name=camera]:checked"), function (b) { return b.value; });
      if (!codes.length) { note.textContent = "Tick at least one camera."; return; }
      send.disabled = true;
      fetch("/requests/incidents/" + c.code + "/send/", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json",
                   "X-CSRFToken": document.querySelector("#case-panel input[name=csrfmiddlewaretoken]").value },
        body: JSON.stringify({ cameras: codes })
      }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
        .then(function (res) {
          send.disabled = false;
          note.textContent = res.ok ? res.body.queued + " request(s) queued for " + res.body.case_number +
            (res.body.skipped ? "; " + res.body.skipped + " already asked or not active." : ".") : res.body.detail;
        })
        .catch(function () { send.disabled = false; note.textContent = "Could not reach the server."; });
    });
  }

  function showResults(body) {
    searchLayer.clearLayers();
    var center = [body.center.lat, body.center.lng];
    searchLayer.addLayer(L.circle(center, { radius: body.radius, color: "#b3261e", weight: 2, fill: false, interactive: false }));
    searchLayer.addLayer(L.circleMarker(center, { radius: 5, color: "#b3261e", fillOpacity: 1 }));
    map.fitBounds(L.latLng(center).toBounds(body.radius * 2.2));
    var covering = body.cameras.filter(function (c) { return c.covers; }).length;
    var html = "<h2>" + body.cameras.length + " camera" + (body.cameras.length === 1 ? "" : "s") + " within " + body.radius +
      " m</h2><p>" + covering + " of them face the point." +
      (body.truncated ? " <strong>Only the nearest " + body.cameras.length + " are listed: use a smaller radius.</strong>" : "") +
      "</p><ol class=\"results\">";
    body.cameras.forEach(function (c) {
      html += "<li data-code=\"" + c.code + "\"" + (c.covers ? " class=\"covers\"" : "") + "><button type=\"button\" class=\"link\">" +
        text(c.label) + "</button> · " + Math.round(c.distance_m) + " m · " + text(c.kind) + (c.level === "integrated" ? " · live" : "") + watchButton(c) +
        (c.covers ? " · <strong>faces the point</strong>" : "") + "</li>";
    });
    resultsEl.innerHTML = html + "</ol>";
    addRequestControls(body);
    resultsEl.querySelectorAll("li").forEach(function (li) {
      var c = body.cameras.find(function (x) { return x.code === li.dataset.code; });
      li.querySelector("button").addEventListener("click", function () {
        map.setView([c.lat, c.lng], 18);
        var m = markersByCode[c.code];
        if (m) clusters.zoomToShowLayer(m, function () { m.openPopup(); });
      });
    });
  }

  map.on("moveend", load);
  map.on("click", function (e) {
    var params = new URLSearchParams({ lat: e.latlng.lat.toFixed(6), lng: e.latlng.lng.toFixed(6) });
    search(params);
  });
  document.getElementById("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = document.getElementById("search-q").value.trim();
    if (!q) { resultsEl.textContent = "Type an address or “lat, lng”, or click the map."; return; }
    search(new URLSearchParams({ q: q }));
  });
  document.getElementById("layers").addEventListener("change", load);
  load();
})();
